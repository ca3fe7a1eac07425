"""Load order over manifests: hard ``dependencies`` first, soft ``after_dependencies`` when present.

Works on manifests alone, before any integration code is imported, so an
integration whose dependencies cannot be met is never executed at all.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Mapping

from ..logging import get_logger
from .errors import DependencyCycleError, DependencyError, IntegrationError
from .manifest import IntegrationManifest

log = get_logger(__name__)


@dataclass
class LoadOrder:
    order: list[str] = field(default_factory=list)
    dropped: dict[str, IntegrationError] = field(default_factory=dict)


def order_integrations(manifests: Mapping[str, IntegrationManifest]) -> LoadOrder:
    """Order ``manifests`` (domain → manifest) so every integration follows what it depends on.

    * a hard-dependency cycle drops every member (``integration_dependency_cycle``);
    * a missing hard dependency drops the dependant, transitively (``integration_dependency_unmet``);
    * soft dependencies only order; if they form a cycle they yield to determinism.

    Among integrations free to go next, the alphabetically smallest goes first, so
    the order never depends on the file system's listing order.
    """
    result = LoadOrder()
    hard = {d: set(m.dependencies) for d, m in manifests.items()}

    for members in _hard_cycles(hard):
        cycle = ", ".join(sorted(members))
        for domain in members:
            result.dropped[domain] = DependencyCycleError(f"{domain} is in a dependency cycle with members {cycle}")

    # Fixpoint: dropping one integration can leave its dependants unmet, and theirs in turn.
    remaining = {d for d in manifests if d not in result.dropped}
    changed = True
    while changed:
        changed = False
        for domain in sorted(remaining):
            missing = sorted(hard[domain] - remaining)
            if missing:
                reasons = [
                    f"{dep} ({result.dropped[dep].key})" if dep in result.dropped else f"{dep} (not found)"
                    for dep in missing
                ]
                result.dropped[domain] = DependencyError(f"{domain} depends on {', '.join(reasons)}")
                remaining.discard(domain)
                changed = True

    result.order = _topological(remaining, manifests)
    return result


def _topological(remaining: set[str], manifests: Mapping[str, IntegrationManifest]) -> list[str]:
    hard_pending = {d: set(manifests[d].dependencies) & remaining for d in remaining}
    soft_pending = {d: (set(manifests[d].after_dependencies) & remaining) - hard_pending[d] - {d} for d in remaining}
    dependants: dict[str, set[str]] = {d: set() for d in remaining}
    for domain in remaining:
        for dep in hard_pending[domain] | soft_pending[domain]:
            dependants[dep].add(domain)

    ready = [d for d in remaining if not hard_pending[d] and not soft_pending[d]]
    heapq.heapify(ready)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(remaining):
        if not ready:
            # Only soft edges can be left in a cycle (hard cycles were dropped): break the
            # smallest candidate's soft wishes rather than refuse to load anything.
            candidate = min(d for d in remaining - placed if not hard_pending[d])
            log.warning(
                "integration_soft_dependency_cycle",
                domain=candidate,
                after_dependencies=sorted(soft_pending[candidate]),
            )
            soft_pending[candidate].clear()
            heapq.heappush(ready, candidate)
        domain = heapq.heappop(ready)
        order.append(domain)
        placed.add(domain)
        for dependant in sorted(dependants[domain]):
            hard_pending[dependant].discard(domain)
            soft_pending[dependant].discard(domain)
            if not hard_pending[dependant] and not soft_pending[dependant] and dependant not in placed:
                if dependant not in ready:
                    heapq.heappush(ready, dependant)
    return order


def _hard_cycles(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Strongly connected components that are cycles (size > 1, or a self-dependency). Iterative Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[set[str]] = []
    counter = 0

    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(n for n in graph[root] if n in graph))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            if successors:
                nxt = successors.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(n for n in graph[nxt] if n in graph)))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    cycles.append(component)
    return cycles
