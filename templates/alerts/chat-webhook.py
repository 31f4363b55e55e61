#!/usr/bin/python3
"""OpenKeeper alert hook: posts each event to a Slack- or Mattermost-compatible incoming
webhook as {"text": ...} (docs/ALERTS.md). Standard library only.

    lkcli cluster alert add --name chat --exec /usr/local/lib/openkeeper/alert-chat \
          --events warning,error

The incoming webhook's URL holds a token: it is read from URL_FILE below (one line,
root's, mode 0600), not kept in the cluster settings. For a receiver of your own, the
built-in webhook kind (--webhook URL --secret-file F) signs the event instead."""

import json
import sys
import urllib.request

URL_FILE = "/etc/openkeeper/chat-webhook.url"
TIMEOUT_S = 8  # below the hook's --timeout (default 10)
ICONS = {"ERROR": ":red_circle:", "WARNING": ":warning:", "INFO": ":information_source:"}


def main():
    event = json.loads(sys.stdin.readline())
    with open(URL_FILE, encoding="utf-8") as f:
        url = f.readline().strip()
    if not url.startswith(("https://", "http://")):
        print(f"{URL_FILE} holds no http(s) URL")
        return 1
    tag = f" `{event['tag']}`" if event.get("tag") else ""
    text = (f"{ICONS.get(event['severity'], '')} *{event['severity']} {event['number']}* "
            f"on *{event['node']}*{tag}: {event['message']}")
    body = json.dumps({"text": text, "username": "OpenKeeper"}).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as answer:
            if 200 <= answer.status < 300:
                return 0
            print(f"chat webhook answered HTTP {answer.status}")
    except Exception as e:  # the last line printed goes into lkd's failure event
        print(f"chat webhook failed: {type(e).__name__}: {getattr(e, 'reason', e)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
