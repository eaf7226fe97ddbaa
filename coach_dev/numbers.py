"""``python -m coach_dev.numbers``: write ``skill/coach/spoken_numbers.json``, counts as words.

num2words says every count the coach speaks ("five", "twenty-one"); this writes what it says for
0 to MAX_SPOKEN, for each language the speech content has, into a plain table that the skill
reads at run time. num2words is then a development tool only: the running skill neither imports
it (all its languages, ~4 MB) nor calls it a dozen times a turn. ``tests/test_spoken_numbers.py``
fails when the committed table and num2words disagree, and says to run this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from num2words import num2words

from skill.catalog.model import CONTENT_DIR

TABLE = Path(__file__).resolve().parent.parent / "skill" / "coach" / "spoken_numbers.json"
MAX_SPOKEN = 100  # past any count the coach says (reps are capped at 50); larger ones as digits


def languages() -> list[str]:
    return sorted(p.name for p in (CONTENT_DIR / "speech").iterdir() if p.is_dir())


def table_text() -> str:
    """The table as committed: language → the words for 0 to MAX_SPOKEN."""
    table = {
        language: [num2words(n, lang=language) for n in range(MAX_SPOKEN + 1)]
        for language in languages()
    }
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    TABLE.write_text(table_text(), encoding="utf-8")
    print(f"wrote {TABLE.relative_to(TABLE.parent.parent.parent)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
