/**
 * An error the emulator answers with, as CloudTrail does under awsJson1_1:
 * the HTTP status, and a body `{"__type": name, "message": ...}`. Names come
 * from the service model (shared/reference/cloudtrail-2013-11-01.service-2.json).
 */
export class ServiceError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}
