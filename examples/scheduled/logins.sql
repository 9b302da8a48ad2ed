-- AWS console sign-ins, successful and failed, one row per ConsoleLogin event.
--
-- Replace EXAMPLE_EVENT_DATA_STORE_ID with your event data store's id: the
-- last part of its ARN (arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID),
-- as `aws cloudtrail list-event-data-stores` shows it. The same ARN goes in
-- iam-policy.json.
--
-- ctlake fills in the two placeholders of the WHERE clause for each window,
-- in UTC, as '2026-01-01 00:00:00'. A scheduled or backfill run refuses SQL
-- without them (exit 2). The state records the hash of this whole file,
-- comments included, and refuses another (exit 2): edit it before the first
-- run, or give the edited query a new --state.
SELECT
  eventTime,
  eventID,
  recipientAccountId,
  awsRegion,
  userIdentity.type AS identityType,
  userIdentity.arn AS principalArn,
  userIdentity.userName AS userName,
  sourceIPAddress,
  userAgent,
  element_at(responseElements, 'ConsoleLogin') AS loginResult,
  element_at(additionalEventData, 'MFAUsed') AS mfaUsed,
  errorMessage
FROM EXAMPLE_EVENT_DATA_STORE_ID
WHERE eventSource = 'signin.amazonaws.com'
  AND eventName = 'ConsoleLogin'
  AND eventTime >= '{{start}}' AND eventTime < '{{end}}'
ORDER BY eventTime, eventID
