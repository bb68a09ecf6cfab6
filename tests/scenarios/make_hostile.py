"""Writes tests/scenarios/hostile.jsonl (the file is committed; rerun from the repository root to change it)."""
import json

T = 1767607200000  # 2026-01-05T10:00:00Z
EMAIL, CARD = "victim.person@example.com", "4111 1111 1111 1111"
PHONES = ["(212) 555-0100", "212-555-0100", "+44 20 7946 0958"]
MARKUP = ["[/]", "[link=https://evil.example]x[/link]", "\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\",
          "\x1b[31mred", "\u202eevil", "<script>alert('xss-script')</script>",
          "<img src=x onerror=\"alert('xss-img')\">", "\"><svg onload=alert('xss-attr')>",
          "</script><script>alert('xss-close')</script>"]
lines = []


def add(record):
    lines.append(json.dumps(record, ensure_ascii=True))


n = 0
for i, mark in enumerate(MARKUP):
    for k in range(3):
        n += 1
        phone = PHONES[n % 3]
        add({"event_id": f"h{n}", "event_type": "page_view", "channel": "web", "event_time": T + n * 15_000,
             "anonymous_id": f"anon-{i}", "user_id": f"user {EMAIL}" if k == 2 else None,
             "page_url": f"https://shop.test/p/{mark}?email={EMAIL.replace('@', '%40')}&tel={phone.replace(' ', '+')}",
             "page_title": f"{mark} call {phone} card {CARD} mail {EMAIL}",
             "referrer": f"https://ref.test/?q={EMAIL.replace('@', '%40')}+%2B1+212+555+0100",
             "utm_campaign": mark, "element_id": f"card-{CARD.replace(' ', '')}",
             "properties": {"note": f"{mark} {EMAIL} {phone}", mark: CARD}})
    add({"event_id": f"c{i}", "event_type": "message", "channel": "chat", "event_time": T + i * 60_000,
         "anonymous_id": f"chat-{i}", "conversation_id": f"conv {mark}", "sender": "customer",
         "message_text": f"{mark} reach me at {EMAIL} or {PHONES[i % 3]}, card {CARD}", "intent": mark})
    add({"event_id": f"s{i}", "event_type": "search", "channel": "app", "event_time": T + i * 60_000 + 5,
         "anonymous_id": f"dev-{i}", "screen_name": f"{mark} {EMAIL}", "search_query": f"{PHONES[i % 3]} {mark}",
         "search_results": 0, "form_id": CARD.replace(" ", "-")})
# Forged values: dead letters or cleaned events, never a crash.
add({"event_id": "f-surrogate", "event_type": "page_view", "channel": "web", "event_time": T,
     "anonymous_id": "\ud800", "page_url": "https://shop.test/"})
add({"event_id": "f-nul", "event_type": "page_view", "channel": "web", "event_time": T, "anonymous_id": "a\x00b",
     "page_title": "nul\x00here"})
lines.append('{"event_id": "f-nan", "event_type": "purchase", "channel": "web", "event_time": %d, '
             '"anonymous_id": "a1", "revenue": NaN}' % T)
add({"event_id": "f-bigint", "event_type": "click", "channel": "web", "event_time": T, "anonymous_id": "a1",
     "x": 2 ** 63, "y": -2 ** 40})
add({"event_id": "f-time", "event_type": "click", "channel": "web", "event_time": 10 ** 30, "anonymous_id": "a1"})
add({"event_id": "f-dup", "event_type": "page_view", "channel": "web", "event_time": T, "anonymous_id": "a1"})
add({"event_id": "f-dup", "event_type": "page_view", "channel": "web", "event_time": T, "anonymous_id": "a1"})
add({"event_id": "f-channel", "event_type": "page_view", "channel": "fax", "event_time": T, "anonymous_id": "a1"})
lines.append('{"event_id": "f-broken", "channel": ')
lines.append("[" * 5000 + "]" * 5000)
lines.append(json.dumps({"event_id": f"f-pii-dead {EMAIL}", "channel": "web", "note": f"{PHONES[0]} {CARD}"}))
text = "\n".join(lines) + "\n"
raw = text.encode("utf-8")
# Raw lines that are not UTF-8 or not text at all (one with personal data inside).
raw += b"\xff\xfe\x00garbage\x80\x81\n"
raw += b'{"event_id": "f-latin1", "channel": "web", "page_title": "caf\xe9 ' + EMAIL.encode() + b'"}\n'
raw += bytes(range(1, 9)) + b"\x0b\x0c\x0e\x1f\x7f\n"
open("tests/scenarios/hostile.jsonl", "wb").write(raw)
print(len(raw.splitlines()), "lines")
