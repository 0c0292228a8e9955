"""The regular expressions a catalog may use: those that mean the same to every engine reading them.

A field's `pattern` goes into the JSON Schemas, where it is ECMA-262 (read with the `u` flag, as
JSON Schema asks: character by character, not by UTF-16 code units); the generated checks and the
collector match it with Python's `re`, reading `$` as the very end as ECMA-262 does (see
`targets/checkplan.py`); the consumer models hand it to pydantic, which matches with Rust's `regex`.
The catalog accepts the constructs all of them read alike, and names every other one with what to
write instead. What none of them can read at all is left to Python's compiler to report.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PatternProblem:
    """A construct whose meaning differs between the engines, where it is in the pattern, and what to write."""

    position: int  # 0-based index of the construct in the pattern
    construct: str  # as written
    reason: str  # completes "<construct> ..."
    hint: str


# ECMA-262's SyntaxCharacter and `/`: the characters an escape may stand for with the `u` flag.
SYNTAX_CHARACTERS = frozenset("^$\\.*+?()[]{}|/")
CONTROL_ESCAPES = frozenset("fnrtv")
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# In a class, Rust's regex (and ECMA-262's `v` flag) read these as set operations; Python warns it will.
SET_OPERATORS = ("&&", "--", "||", "~~")
QUANTIFIER = re.compile(r"\{([0-9]*)(,([0-9]*))?\}")

_UNICODE_CLASSES = {
    "d": ("matches every Unicode digit (such as ٣) in Python, only 0-9 in ECMA-262", "[0-9]"),
    "D": ("excludes every Unicode digit in Python, only 0-9 in ECMA-262", "[^0-9]"),
    "w": (
        "matches every Unicode letter and digit (such as é) in Python, only A-Z, a-z, 0-9 and _ in ECMA-262",
        "[A-Za-z0-9_]",
    ),
    "W": ("excludes every Unicode letter and digit in Python, only A-Z, a-z, 0-9 and _ in ECMA-262", "[^A-Za-z0-9_]"),
    "s": ("matches different white space in Python and ECMA-262 (U+001C to U+001F, U+FEFF)", "[ \\t]"),
    "S": ("excludes different white space in Python and ECMA-262 (U+001C to U+001F, U+FEFF)", "[^ \\t]"),
}
_ESCAPE_PROBLEMS = {
    "b": (
        "is a word boundary, and words are Unicode in Python, ASCII in ECMA-262",
        "write the characters allowed on each side, or anchor the pattern with ^ and $",
    ),
    "B": (
        "is a non-boundary, and words are Unicode in Python, ASCII in ECMA-262",
        "write the characters allowed on each side instead",
    ),
    "A": ("is Python's start of text; ECMA-262 has no \\A", "write ^ for \\A"),
    "Z": ("is Python's end of text; ECMA-262 has no \\Z", "write $ for \\Z: it matches only at the very end"),
    "z": ("is no escape in ECMA-262 (nor in Python before 3.14)", "write $ for \\z: it matches only at the very end"),
    "k": ("is a named back-reference, which Python writes (?P=name)", "repeat the group's pattern instead"),
    "p": ("is a Unicode property, which Python's re does not have", "write the ranges meant, e.g. [A-Za-z]"),
    "P": ("is a Unicode property, which Python's re does not have", "write the ranges meant, e.g. [^A-Za-z]"),
    "c": ("is a control-character escape, which Python's re does not have", "write \\xHH, e.g. \\x0a"),
    "N": ("is a named character, which ECMA-262 does not have", "write the character itself, or \\uHHHH"),
    "U": ("is Python's 8-digit escape, which ECMA-262 does not have", "write the character itself"),
    "a": ("is a bell character in Python and an error in ECMA-262", "write \\x07"),
}
_GROUP_PROBLEMS = {
    "(?P": ("is Python's named-group syntax, which ECMA-262 does not read", "write a plain group (…) or (?:…)"),
    "(?<=": (
        "is a lookbehind, which pydantic's regex engine (Rust's) does not support",
        "write the pattern without lookbehind",
    ),
    "(?<!": (
        "is a lookbehind, which pydantic's regex engine (Rust's) does not support",
        "write the pattern without lookbehind",
    ),
    "(?<": ("is ECMA-262's named group, which Python writes (?P<name>…)", "write a plain group (…) or (?:…)"),
    "(?=": (
        "is a lookahead, which pydantic's regex engine (Rust's) does not support",
        "write the pattern without lookahead",
    ),
    "(?!": (
        "is a lookahead, which pydantic's regex engine (Rust's) does not support",
        "write the pattern without lookahead",
    ),
    "(?>": ("is an atomic group, which only Python (3.11 and later) reads", "write a plain group (?:…)"),
    "(?#": ("is a Python comment, which ECMA-262 does not read", "remove the comment"),
    "(?(": ("is a Python conditional group, which ECMA-262 does not read", "write the alternatives out with |"),
}
_INLINE_FLAGS = frozenset("aiLmsux-")
_BRACKETED_ESCAPES = {"p": "{}", "P": "{}", "N": "{}", "k": "<>"}


@dataclass(frozen=True)
class _Token:
    position: int
    text: str
    depth: int  # of groups around it


class _Scanner:
    """One pass over a pattern: its tokens at group depth, and the problems of its constructs.

    It reads a pattern as Python's `re` does, and never fails: what Python cannot read at all
    is left for its compiler to report.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.problems: list[PatternProblem] = []
        self.tokens: list[_Token] = []

    def problem(self, position: int, construct: str, reason: str, hint: str) -> None:
        self.problems.append(PatternProblem(position, construct, reason, hint))

    def scan(self) -> None:
        pattern = self.pattern
        index = depth = 0
        while index < len(pattern):
            start, char = index, pattern[index]
            if char == "\\":
                index = self.escape(index, in_class=False)
            elif char == "[":
                index = self.character_class(index)
            elif char == "(":
                index = self.group(index)
            elif char == ")":
                depth = max(depth - 1, 0)  # the token stands outside the group it closes
                index += 1
            elif char in "*+?{":
                index = self.quantifier(index)
            elif char in "}]":
                self.problem(index, char, "is a literal in Python but an error in ECMA-262", f"write \\{char}")
                index += 1
            elif char == ".":
                self.problem(
                    index,
                    char,
                    "matches \\r, U+2028 and U+2029 in Python but not in ECMA-262",
                    "write a class of the characters allowed, e.g. [A-Za-z0-9]",
                )
                index += 1
            else:
                self.literal(index)
                index += 1
            self.tokens.append(_Token(start, pattern[start:index], depth))
            if char == "(":
                depth += 1

    def escape(self, index: int, *, in_class: bool) -> int:
        """Check the escape at `index`; return the index after it."""
        pattern = self.pattern
        if index + 1 == len(pattern):
            return index + 1  # a trailing backslash: Python refuses it
        char = pattern[index + 1]
        construct = pattern[index : index + 2]
        if char in SYNTAX_CHARACTERS or char in CONTROL_ESCAPES or (in_class and char == "-"):
            return index + 2
        if char == "x":
            digits = pattern[index + 2 : index + 4]
            return index + 4 if len(digits) == 2 and set(digits) <= HEX_DIGITS else index + 2
        if char == "u":
            return self.unicode_escape(index)
        brackets = _BRACKETED_ESCAPES.get(char)
        if brackets and pattern.startswith(brackets[0], index + 2) and (end := pattern.find(brackets[1], index)) != -1:
            construct = pattern[index : end + 1]  # \p{L}, \k<name>: one construct
        if char in _UNICODE_CLASSES:
            reason, replacement = _UNICODE_CLASSES[char]
            self.problem(index, construct, reason, f"write {replacement} for {construct}")
        elif char == "b" and in_class:
            self.problem(
                index,
                construct,
                "is a backspace in Python and ECMA-262 but an error in pydantic's regex engine (Rust's)",
                "write \\x08 for a backspace",
            )
        elif char in _ESCAPE_PROBLEMS:
            self.problem(index, construct, *_ESCAPE_PROBLEMS[char])
        elif char == "0":
            self.problem(
                index, construct, "starts an octal escape in Python, not in ECMA-262", "write \\xHH, e.g. \\x00"
            )
        elif char.isdigit():
            self.problem(
                index,
                construct,
                "is a back-reference, which Python and ECMA-262 resolve differently",
                "repeat the group's pattern instead",
            )
        elif not (char.isascii() and char.isalnum()):
            what = "a space" if char == " " else char
            self.problem(
                index,
                construct,
                f"means {what} in Python but is an error in ECMA-262, which escapes only ^$\\.*+?()[]{{}}|/"
                + (" and, in a class, -" if in_class else ""),
                f"write {what} without the backslash",
            )
        # Any other letter is an escape Python does not know: its compiler reports it.
        return index + len(construct)

    def unicode_escape(self, index: int) -> int:
        pattern = self.pattern
        digits = pattern[index + 2 : index + 6]
        if pattern[index + 2 : index + 3] == "{":
            end = pattern.find("}", index)
            construct = pattern[index : end + 1] if end != -1 else pattern[index : index + 3]
            self.problem(
                index,
                construct,
                "is ECMA-262's code point escape, which Python does not read",
                "write \\uHHHH for a character up to U+FFFF, or the character itself",
            )
            return index + len(construct)
        if len(digits) < 4 or not set(digits) <= HEX_DIGITS:
            return index + 2  # incomplete: Python refuses it
        if 0xD800 <= int(digits, 16) <= 0xDFFF:
            self.problem(
                index,
                pattern[index : index + 6],
                "is half of a UTF-16 surrogate pair: ECMA-262 joins two into one character, Python does not",
                "write the character itself",
            )
        return index + 6

    def character_class(self, index: int) -> int:
        """Check the class opening at `index`; return the index after it."""
        pattern = self.pattern
        index += 1
        if pattern.startswith("^", index):
            index += 1
        if pattern.startswith("]", index):
            self.problem(
                index,
                "]",
                "first in a class is a literal in Python but closes an empty class in ECMA-262",
                "write \\] for a literal ]",
            )
            index += 1
        while index < len(pattern) and pattern[index] != "]":
            if pattern[index] == "\\":
                index = self.escape(index, in_class=True)
            elif pattern.startswith(SET_OPERATORS, index):
                operator = pattern[index : index + 2]
                self.problem(
                    index,
                    operator,
                    "in a class is a set operation in pydantic's regex engine (Rust's), and a future one in Python",
                    f"escape one of them: {operator[0]}\\{operator[1]}",
                )
                index += 2
            elif pattern[index] == "[":
                self.problem(
                    index,
                    "[",
                    "in a class starts a nested class in pydantic's regex engine (Rust's), and a future one in Python",
                    "write \\[ for a literal [",
                )
                index += 1
            else:
                self.literal(index)
                index += 1
        return index + 1

    def literal(self, index: int) -> None:
        char = self.pattern[index]
        if ord(char) > 0xFFFF:
            self.problem(
                index,
                char,
                f"(U+{ord(char):X}) is two UTF-16 code units to ECMA-262 without the u flag, and a quantifier or "
                "class takes them apart",
                "leave characters beyond U+FFFF out of the pattern",
            )

    def group(self, index: int) -> int:
        """Check the group opening at `index`; return the index after its opening."""
        pattern = self.pattern
        if not pattern.startswith("(?", index):
            return index + 1
        if pattern.startswith("(?:", index):
            return index + 3
        for opening, (reason, hint) in _GROUP_PROBLEMS.items():
            if pattern.startswith(opening, index):
                self.problem(index, opening, reason, hint)
                return index + len(opening)
        end = index + 2
        while end < len(pattern) and pattern[end] in _INLINE_FLAGS:
            end += 1
        if end > index + 2:
            self.problem(
                index,
                pattern[index:end],
                "sets flags inside the pattern, which ECMA-262 engines before its 2025 edition do not read",
                "write the cases out, e.g. [Aa] for a case-insensitive a",
            )
        return end

    def quantifier(self, index: int) -> int:
        """Check the quantifier (or brace) at `index`; return the index after it."""
        pattern = self.pattern
        end = index + 1
        if pattern[index] == "{":
            match = QUANTIFIER.match(pattern, index)
            if match is None or not (match[1] or match[3]):
                self.problem(index, "{", "is a literal in Python but an error in ECMA-262", "write \\{")
                return index + 1
            if not match[1]:
                self.problem(
                    index,
                    match[0],
                    f"means {{0,{match[3]}}} in Python but is an error in ECMA-262",
                    f"write {{0,{match[3]}}}",
                )
            end = match.end()
        # A `?` after a quantifier makes it lazy, which all engines read alike; a `+`, possessive.
        if pattern.startswith("?", end):
            end += 1
        elif pattern.startswith("+", end):
            self.problem(
                index,
                pattern[index : end + 1],
                "is a possessive quantifier, which only Python (3.11 and later) reads",
                "leave out the + after the quantifier",
            )
            end += 1
        return end


@functools.cache  # patterns repeat across fields and are asked about by several checks
def _scan(pattern: str) -> _Scanner:
    scanner = _Scanner(pattern)
    scanner.scan()
    return scanner


def portability_problems(pattern: str) -> list[PatternProblem]:
    """Each construct of `pattern` that the engines read differently, once per construct, in order."""
    first: dict[str, PatternProblem] = {}
    for problem in _scan(pattern).problems:
        first.setdefault(problem.construct, problem)
    return list(first.values())


def top_level_alternatives(pattern: str) -> list[list[str]]:
    """The tokens of `pattern` (`^`, `a`, `\\$`, `[a-z]`, `+` ...), split at each `|` outside groups and classes."""
    alternatives: list[list[str]] = [[]]
    for token in _scan(pattern).tokens:
        if token.text == "|" and token.depth == 0:
            alternatives.append([])
        else:
            alternatives[-1].append(token.text)
    return alternatives


def python_pattern(pattern: str) -> str:
    """`pattern` for Python's `re`, matching what it matches in ECMA-262 (JSON Schema's dialect).

    ECMA's `$` matches only at the very end; Python's `$` also before a final newline, so each
    unescaped `$` outside a character class becomes `\\Z`. (`portability_problems` finds the
    constructs whose meaning differs in other ways; the catalog refuses them.)
    """
    out: list[str] = []
    in_class = escaped = False
    for character in pattern:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif in_class:
            in_class = character != "]"
        elif character == "[":
            in_class = True
        elif character == "$":
            out.append("\\Z")
            continue
        out.append(character)
    return "".join(out)
