"""Bad input, with a stable short reason code for dead letters and counters."""


class BadInput(ValueError):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class WireError(BadInput):
    """Bytes that are not a decodable framed Avro record."""


class InvalidEvent(BadInput):
    """A decoded record that breaks the contract (section 4)."""
