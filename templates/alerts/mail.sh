#!/bin/sh
# OpenKeeper alert hook: one e-mail per event, through the local sendmail (docs/ALERTS.md).
#   lkcli cluster alert add --name mail --exec /usr/local/lib/openkeeper/alert-mail \
#         --recipient ops@example.com --events error,1620-1629
# The recipient: the hook's --recipient (LK_ALERT_RECIPIENT), else the line below.
RECIPIENT="root"
SENDMAIL="/usr/sbin/sendmail"

to="${LK_ALERT_RECIPIENT:-$RECIPIENT}"
[ -x "$SENDMAIL" ] || { echo "no $SENDMAIL on this node"; exit 1; }
# One line of JSON on stdin: the whole event, attached below the summary.
event=$(cat)
# Header values from the event: no line breaks may reach the header.
subject=$(printf '[OpenKeeper] %s %s on %s: %s' "$LK_ALERT_SEVERITY" "$LK_ALERT_NUMBER" \
    "$LK_ALERT_NODE" "$LK_ALERT_MESSAGE" | tr -d '\r\n' | cut -c1-200)
to=$(printf '%s' "$to" | tr -d '\r\n')
{
    printf 'To: %s\n' "$to"
    printf 'Subject: %s\n' "$subject"
    printf 'Content-Type: text/plain; charset=UTF-8\n'
    printf 'Auto-Submitted: auto-generated\n\n'
    printf 'Node:     %s\n' "$LK_ALERT_NODE"
    printf 'Time:     %s\n' "$LK_ALERT_TIMESTAMP"
    printf 'Event:    %s %s (seq %s)\n' "$LK_ALERT_SEVERITY" "$LK_ALERT_NUMBER" "$LK_ALERT_SEQ"
    printf 'Resource: %s\n' "${LK_ALERT_TAG:--}"
    printf 'Message:  %s\n\n' "$LK_ALERT_MESSAGE"
    printf '%s\n' "$event"
} | "$SENDMAIL" -t -oi
