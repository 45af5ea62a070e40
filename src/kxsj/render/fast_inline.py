"""Python-Markdown's inline stage, minus the regex searches that cannot match.

Why: the inline treeprocessor is the largest cost of rendering a body.  For
every text node it tries each registered inline pattern in turn (fifteen
here), and each try is a regex search over the text, plus the registry
lookup and bookkeeping around it.  Most of those searches fail: a paragraph
of Chinese prose holds no `` ` ``, no ``[``, no ``<``, no ``&``.

This extension replaces the ``inline`` treeprocessor with a subclass that,
before trying a pattern on a text, asks a question that costs a few ``in``
tests: does the text contain what every match of this pattern's regex must
contain?  The answer is worked out once per pattern from the regex itself
(``required_text``), so it follows whatever patterns the extensions register.
When the answer is no, the search could not have matched, and Python-Markdown
would have moved on to the next pattern without side effects; the subclass
moves on the same way, without searching.  When the answer is yes, or the
regex is one the analysis does not understand, the pattern runs exactly as
before.  The output is therefore the same, byte for byte (a test renders the
corpus both ways).

The question is asked of the text as it is at that moment, placeholders of
earlier matches included, which is the very string the regex would search.

``required_text`` reads the regex's parse tree (``re._parser``).  It only ever
claims what a match cannot do without; anything it does not recognise adds no
claim, and a module the running Python lacks turns the filter off.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Optional

from markdown import Extension, Markdown
from markdown import treeprocessors, util
from markdown.inlinepatterns import Pattern

try:  # private modules, renamed in the past: without them, no filter
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    try:
        import sre_constants as _sre  # type: ignore[no-redef]
        import sre_parse as _sre_parse  # type: ignore[no-redef]
    except ImportError:
        _sre = _sre_parse = None  # type: ignore[assignment]

# A condition is a conjunction of alternatives: every tuple must have at
# least one of its strings in the text.  ``()`` claims nothing.
Condition = tuple[tuple[str, ...], ...]

# A character class counts as "one of these characters" up to this size;
# bigger ones (``[A-Za-z]``) would cost more to test than they save.
_MAX_CLASS = 8


def required_text(regex: re.Pattern) -> Condition:
    """What any text that ``regex.search`` matches must contain.

    Each tuple of the result lists strings of which the text holds at least
    one, wherever in the text the match is (lookarounds included: what they
    test is text too).  Longer, so rarer, strings are tested first.
    """
    if _sre_parse is None or not isinstance(regex.pattern, str):
        return ()
    if regex.flags & re.IGNORECASE:
        return ()
    try:
        parsed = _sre_parse.parse(regex.pattern, regex.flags)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return ()
    conjuncts = {frozenset(c) for c in _sequence(parsed)}
    ordered = sorted(conjuncts, key=lambda c: (-min(map(len, c)), len(c), sorted(c)))
    return tuple(tuple(sorted(c, key=lambda s: (-len(s), s))) for c in ordered)


def _sequence(items: Iterable) -> list[frozenset[str]]:
    """Conjuncts of a sequence of regex items: all of its items must match."""
    out: list[frozenset[str]] = []
    run: list[str] = []  # consecutive literal characters: one required string
    for op, av in items:
        if op is _sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            out.append(frozenset(["".join(run)]))
            run = []
        out.extend(_item(op, av))
    if run:
        out.append(frozenset(["".join(run)]))
    return out


def _item(op, av) -> list[frozenset[str]]:
    """Conjuncts of one regex item other than a literal; [] when unsure."""
    if op is _sre.IN:
        chars = _class_chars(av)
        return [chars] if chars else []
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & _sre.SRE_FLAG_IGNORECASE:
            return []
        return _sequence(sub)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) or op is getattr(_sre, "POSSESSIVE_REPEAT", None):
        low, _high, sub = av
        return _sequence(sub) if low >= 1 else []
    if op is getattr(_sre, "ATOMIC_GROUP", None):
        return _sequence(av)
    if op is _sre.ASSERT:  # lookahead or lookbehind: what it sees is text too
        _direction, sub = av
        return _sequence(sub)
    if op is _sre.BRANCH:
        return _branch([_sequence(alt) for alt in av[1]])
    return []  # ANY, NOT_LITERAL, AT, ASSERT_NOT, GROUPREF, …: no claim


def _class_chars(items) -> Optional[frozenset[str]]:
    """The characters a small, plain class ``[…]`` matches; None otherwise."""
    chars: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            chars.add(chr(av))
        elif op is _sre.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY, a wide range
            return None
        if len(chars) > _MAX_CLASS:
            return None
    return frozenset(chars) or None


def _branch(alternatives: list[list[frozenset[str]]]) -> list[frozenset[str]]:
    """Conjuncts of ``a|b|…``, from the conjuncts of each alternative.

    A set that each alternative implies (it requires a subset of it) holds
    for the whole branch.  Failing that, the union of one set per alternative
    does; an alternative that requires nothing makes the branch claim nothing.
    """
    if any(not alt for alt in alternatives):
        return []
    candidates = {c for alt in alternatives for c in alt}
    common = [c for c in candidates if all(any(a <= c for a in alt) for alt in alternatives)]
    if common:
        return common
    return [frozenset().union(*(min(alt, key=_weakness) for alt in alternatives))]


def _weakness(conjunct: frozenset[str]) -> tuple[int, int]:
    """Order for choosing an alternative's set: fewer, longer strings first."""
    return len(conjunct), -min(map(len, conjunct))


def pattern_condition(pattern: Pattern) -> Condition:
    """``required_text`` of the regex ``pattern`` searches with, if it is fixed.

    A pattern class that overrides ``getCompiledRegExp`` may search with a
    different regex each time; it gets no filter.
    """
    if type(pattern).getCompiledRegExp is not Pattern.getCompiledRegExp:
        return ()
    regex = getattr(pattern, "compiled_re", None)
    if not isinstance(regex, re.Pattern):
        return ()
    return required_text(regex)


def may_match(condition: Condition, text: str) -> bool:
    """False only if ``text`` lacks what the condition requires."""
    for options in condition:
        for needle in options:
            if needle in text:
                break
        else:
            return False
    return True


def pattern_matches(pattern: Pattern, data: str, start: int = 0) -> Iterator[tuple]:
    """``(node, begin, end)`` of each match that ``pattern.handleMatch`` accepts in ``data`` from ``start``.

    Searched as Python-Markdown searches: after a refused candidate, on from
    its end; after an accepted match, on from the match's end.
    """
    regex = pattern.getCompiledRegExp()
    pos = start
    while True:
        m = regex.search(data, pos)
        if m is None:
            return
        node, begin, end = pattern.handleMatch(m, data)
        if begin is None or end is None:
            pos = max(m.end(0), pos + 1)
            continue
        yield node, begin, end
        pos = max(end, m.start(0) + 1)


_BASE = treeprocessors.InlineProcessor
# The private methods the subclass relies on; another Markdown may lack them.
_HOOKS_PRESENT = all(
    hasattr(_BASE, name)
    for name in ("_InlineProcessor__handleInline", "_InlineProcessor__applyPattern", "_InlineProcessor__stashNode")
)


class FilteredInlineProcessor(_BASE):
    """``InlineProcessor`` that skips the patterns whose regex cannot match.

    Only ``__handleInline`` (the loop over patterns for one text) changes;
    everything else, ``__applyPattern`` included, is Python-Markdown's own.
    The pattern list is read from the registry once per document instead of
    once per try.
    """

    def __init__(self, md: Markdown) -> None:
        super().__init__(md)
        self._conditions: dict[int, tuple[Pattern, re.Pattern, Condition]] = {}
        self._plan: list[tuple[Pattern, Condition]] = []

    def _condition(self, pattern: Pattern) -> Condition:
        cached = self._conditions.get(id(pattern))
        regex = getattr(pattern, "compiled_re", None)
        if cached is None or cached[0] is not pattern or cached[1] is not regex:
            cached = (pattern, regex, pattern_condition(pattern))
            self._conditions[id(pattern)] = cached
        return cached[2]

    def run(self, tree, ancestors=None):
        self._plan = [(p, self._condition(p)) for p in self.inlinePatterns]
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # Same loop as Python-Markdown's, plus the ``may_match`` test.  A
        # pattern that fails (or is skipped) resets ``startIndex`` to 0.
        if isinstance(data, util.AtomicString):
            return data
        plan = self._plan
        apply = self._InlineProcessor__applyPattern
        start = 0
        count = len(plan)
        while patternIndex < count:
            pattern, condition = plan[patternIndex]
            if getattr(pattern, "batch", False) and may_match(condition, data):
                data, start = self._apply_all(pattern, data, start), 0
                patternIndex += 1
                continue
            if may_match(condition, data):
                data, matched, start = apply(pattern, data, patternIndex, start)
                if matched:
                    continue
            else:
                start = 0
            patternIndex += 1
        return data


    def _apply_all(self, pattern: Pattern, data: str, start: int) -> str:
        """Every match of a ``batch`` pattern from ``start``, the text built once.

        ``__applyPattern`` rebuilds the whole text after each match, so a
        paragraph of 50,000 formulas copied it 50,000 times (quadratic).
        Here the matches are found in order exactly as it finds them (each
        search starts where the last match ended, or after a refused
        candidate) and the text is joined once.  Only for patterns that say
        ``batch = True``: their ``handleMatch`` returns a leaf element whose
        text is an ``AtomicString`` (nothing inside it to process) and
        does not depend on what earlier matches were replaced by.
        """
        for exclude in pattern.ANCESTOR_EXCLUDES:
            if exclude.lower() in self.ancestors:
                return data
        stash = self._InlineProcessor__stashNode
        pieces: list[str] = []
        last = start
        for node, begin, end in pattern_matches(pattern, data, start):
            if node is not None:
                pieces.append(data[last:begin])
                pieces.append(stash(node, pattern.type()))
                last = end
        if not pieces:
            return data
        pieces.append(data[last:])
        return data[:start] + "".join(pieces) if start else "".join(pieces)


class FastInlineExtension(Extension):
    """Register ``FilteredInlineProcessor`` as ``inline`` (load it last)."""

    def extendMarkdown(self, md: Markdown) -> None:
        if _HOOKS_PRESENT and _sre_parse is not None:
            md.treeprocessors.register(FilteredInlineProcessor(md), "inline", 20)
