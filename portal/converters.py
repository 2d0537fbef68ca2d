"""URL converters.

``<id:pk>`` matches the ids of our rows: 1 to 18 digits, so every match fits a
64-bit integer column. A longer number cannot name a row; the route does not
match and the answer is a plain 404, never an overflow inside the database
driver (SQLite refuses integers over 2**63).
"""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
