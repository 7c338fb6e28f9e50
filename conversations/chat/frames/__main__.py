"""Write docs/protocol.schema.json from the models (`--check`: only say whether it is
up to date, exiting 1 if not)."""

import sys

from .schema import PATH, render


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = PATH.read_text() if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is out of date: run python -m conversations.chat.frames")
            return 1
        print(f"{PATH} is up to date")
        return 0
    PATH.write_text(text)
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
