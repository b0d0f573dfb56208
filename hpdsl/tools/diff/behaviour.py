"""Comparing what a program does: statement bodies and their branches, state machines with their
states and transitions, and alarms.

May import: hpdsl.base, hpdsl.language, hpdsl.tools.diff.common.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from hpdsl.language import nodes as n
from hpdsl.tools.diff.common import (
    STATEMENT_ORDER_NOTE,
    TRANSITION_ORDER_NOTE,
    DifferBase,
    Side,
    cites_of,
    clip,
    magnitude,
    match,
    moved,
    named,
    plural,
    statement_key,
)


class BehaviourDiff(DifferBase):
    """Changes in statements, branches, state machines and alarms."""

    # -- statements
    def _body(
        self,
        subject: str,
        context: str,
        olds: tuple[n.Stmt, ...],
        news: tuple[n.Stmt, ...],
        at: n.Node,
        cites: Sequence[str],
    ) -> None:
        """A block of statements: added, removed, changed and moved ones.

        `context` says where the block sits ("in `entry`", "in the `if x` branch"); `at` locates
        changes that have no node of their own in NEW.
        """
        if olds == news:
            return
        prefix = f"{context}: " if context else ""
        events: list[tuple[str, int, int]] = []  # ("pair" | "add" | "remove", old index, new index)
        for tag, i1, i2, j1, j2 in SequenceMatcher(a=olds, b=news, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            pairs, gone, _ = match(olds[i1:i2], news[j1:j2], statement_key)
            paired = {j: i for i, j in pairs}
            for j in range(j2 - j1):
                if j in paired:
                    events.append(("pair", i1 + paired[j], j1 + j))
                else:
                    events.append(("add", -1, j1 + j))
            events.extend(("remove", i1 + i, -1) for i in gone)
        # A statement removed in one place and added in another moved: order matters in a block.
        removed_at = {olds[i]: i for kind, i, _ in events if kind == "remove"}
        moves: dict[int, int] = {}
        for kind, _, j in events:
            if kind == "add" and news[j] in removed_at:
                moves[j] = removed_at.pop(news[j])
        moved_old = set(moves.values())
        for kind, i, j in events:
            if kind == "pair":
                self._statement(subject, context, olds[i], news[j], cites)
            elif kind == "add" and j in moves:
                self._emit(
                    subject,
                    f"{prefix}statement `{self.new.text(news[j])}` moved from position {moves[j] + 1}"
                    f" to {j + 1} ({STATEMENT_ORDER_NOTE})",
                    news[j],
                    cites,
                )
            elif kind == "add":
                self._emit(subject, f"{prefix}statement `{self.new.text(news[j])}` added", news[j], cites)
            elif kind == "remove" and i not in moved_old:
                self._emit(
                    subject,
                    f"{prefix}statement `{self.old.text(olds[i])}` removed",
                    olds[i],
                    cites,
                    removed=True,
                )

    def _statement(self, subject: str, context: str, old: n.Stmt, new: n.Stmt, cites: Sequence[str]) -> None:
        if isinstance(old, n.If) and isinstance(new, n.If):
            self._if(subject, context, old, new, cites)
            return
        prefix = f"{context}: " if context else ""
        extra = (
            magnitude(old.value, new.value) if isinstance(old, n.Assign) and isinstance(new, n.Assign) else ""
        )
        self._emit(subject, f"{prefix}statement {self._before_after(old, new)}{extra}", new, cites)

    def _if(self, subject: str, context: str, old: n.If, new: n.If, cites: Sequence[str]) -> None:
        """Branches matched by their condition, then by position; their bodies compared."""
        prefix = f"{context}: " if context else ""
        inside = f"{context}, " if context else ""
        head = f"`if {clip(self.new.raw(new.branches[0].condition), 60)}`"
        pairs, gone, added = match(old.branches, new.branches, lambda b: b.condition, lambda b: "by position")
        for i, j in pairs:
            before, after = old.branches[i], new.branches[j]
            if before.condition != after.condition:
                self._emit(
                    subject,
                    f"{prefix}condition {self._before_after(before.condition, after.condition)} of {head}",
                    after.condition,
                    cites,
                )
            label = self._branch_label(self.new, new, j)
            self._body(subject, f"{inside}in {label}", before.body, after.body, after, cites)
        for j in added:
            self._emit(
                subject,
                f"{prefix}{self._branch_label(self.new, new, j)} added to {head}: "
                + self._statements(new.branches[j].body),
                new.branches[j],
                cites,
            )
        for i in gone:
            self._emit(
                subject,
                f"{prefix}{self._branch_label(self.old, old, i)} removed from {head}",
                old.branches[i],
                cites,
                removed=True,
            )
        if old.else_body is not None and new.else_body is not None:
            self._body(
                subject, f"{inside}in the `else` branch of {head}", old.else_body, new.else_body, new, cites
            )
        elif new.else_body is not None:
            self._emit(
                subject,
                f"{prefix}`else` branch added to {head}: " + self._statements(new.else_body),
                new,
                cites,
            )
        elif old.else_body is not None:
            self._emit(subject, f"{prefix}`else` branch removed from {head}", new, cites)

    def _branch_label(self, side: Side, statement: n.If, index: int) -> str:
        keyword = "if" if index == 0 else "else if"
        return f"the `{keyword} {clip(side.raw(statement.branches[index].condition), 60)}` branch"

    # -- state machines
    def _machine(self, old: n.Machine, new: n.Machine) -> None:
        subject = named(new)
        cites = cites_of(new.meta)
        old_initial = next((s.name.text for s in old.states if s.initial), None)
        new_initial = next((s.name.text for s in new.states if s.initial), None)
        if old_initial != new_initial:
            self._emit(subject, f"initial state `{old_initial}` -> `{new_initial}`", new.name, cites)
        pairs, gone, _ = match(old.states, new.states, lambda s: s.name.text)
        paired = {j: i for i, j in pairs}
        for j, state in enumerate(new.states):
            if j in paired:
                self._state(new, old.states[paired[j]], state)
            else:
                initial = " (the initial state)" if state.initial else ""
                self._emit(
                    f"{subject}, state `{state.name.text}`",
                    f"added{initial}, with {plural(len(state.transitions), 'transition')}"
                    + self._transition_list(self.new, state.transitions),
                    state.name,
                    cites_of(state.meta) or cites,
                )
        for i in gone:
            state = old.states[i]
            self._emit(
                f"{subject}, state `{state.name.text}`",
                "removed",
                state.name,
                cites_of(state.meta) or cites,
                removed=True,
            )

    def _transition_list(self, side: Side, transitions: Sequence[n.Transition]) -> str:
        if not transitions:
            return ""
        return ": " + ", ".join(f"`{self._transition(side, t)}`" for t in transitions)

    def _transition(self, side: Side, transition: n.Transition) -> str:
        return f"{transition.kind} {side.text(transition.trigger)} -> {transition.target.text}"

    def _state(self, machine: n.Machine, old: n.State, new: n.State) -> None:
        if old == new:
            return
        subject = f"{named(machine)}, state `{new.name.text}`"
        cites = cites_of(new.meta) or cites_of(machine.meta)
        self._meta(subject, old.meta, new.meta, new.name, cites)
        for label, before, after in (
            ("entry", old.entry, new.entry),
            ("during", old.during, new.during),
            ("exit", old.exit, new.exit),
        ):
            if before is None and after is not None:
                self._emit(subject, f"`{label}` actions added: {self._statements(after)}", new.name, cites)
            elif after is None and before is not None:
                self._emit(subject, f"`{label}` actions removed", new.name, cites)
            elif before is not None and after is not None:
                self._body(subject, f"in `{label}`", before, after, new.name, cites)
        self._transitions(subject, old, new, cites)

    def _statements(self, body: Sequence[n.Stmt]) -> str:
        """New statements in brief, for a block that was added."""
        if not body:
            return "no statements"
        return clip("; ".join(f"`{self.new.raw(s)}`" for s in body))

    def _transitions(self, subject: str, old: n.State, new: n.State, cites: Sequence[str]) -> None:
        olds, news = old.transitions, new.transitions
        pairs, gone, added = match(
            olds,
            news,
            lambda t: (t.kind, t.trigger, t.target.text),
            lambda t: (t.kind, t.target.text),
            lambda t: (t.kind, t.trigger),
        )
        moved_to = moved(pairs)
        for i, j in pairs:
            before, after = olds[i], news[j]
            own = cites_of(after.meta) or cites
            shown = f"`{self._transition(self.new, after)}`"
            if before.trigger != after.trigger:
                word = "guard" if after.kind == "when" else "timeout"
                self._emit(
                    subject,
                    f"{word} of the transition to `{after.target.text}` changed: "
                    f"`{self.old.text(before.trigger)}` -> `{self.new.text(after.trigger)}`"
                    + magnitude(before.trigger, after.trigger),
                    after.trigger,
                    own,
                )
            if before.target != after.target:
                self._emit(
                    subject,
                    f"target of `{after.kind} {self.new.text(after.trigger)}` changed: "
                    f"`{before.target.text}` -> `{after.target.text}`",
                    after.target,
                    own,
                )
            self._meta(f"{subject}, transition {shown}", before.meta, after.meta, after, own)
            if j in moved_to:
                self._emit(
                    subject,
                    f"transition {shown} moved from position {i + 1} to {j + 1} ({TRANSITION_ORDER_NOTE})",
                    after,
                    own,
                )
        for j in added:
            transition = news[j]
            self._emit(
                subject,
                f"transition `{self._transition(self.new, transition)}` added at position {j + 1}",
                transition,
                cites_of(transition.meta) or cites,
            )
        for i in gone:
            transition = olds[i]
            self._emit(
                subject,
                f"transition `{self._transition(self.old, transition)}` removed",
                transition,
                cites_of(transition.meta) or cites,
                removed=True,
            )

    # -- alarms
    def _alarm(self, old: n.Alarm, new: n.Alarm) -> None:
        subject = named(new)
        cites = cites_of(new.meta)
        at = new.name
        self._value(subject, "condition", old.condition, new.condition, at, cites)
        if old.severity != new.severity:
            self._value_text(subject, "severity", old.severity, new.severity, at, cites)
        self._value(subject, "delay", old.delay, new.delay, at, cites)
        if old.latching != new.latching:
            self._emit(subject, "now latching" if new.latching else "no longer latching", at, cites)
        self._value(subject, "acknowledge", old.acknowledge, new.acknowledge, at, cites)
        self._body(subject, "in the action", old.action, new.action, at, cites)
