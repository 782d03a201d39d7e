"""The module programs: one per Terraform module flavor, named `<module>-<flavor>`.

A program is a module of the catalogue (`tfext/catalog.py`: its certificate slots, bound to role profiles)
plus the query schema of its flavor (`tfext/schemas/<program>.json`, the truth about which keys it takes,
generated from the catalogue too). Flavors of one module share the engine, so they cannot drift apart.
"""

from __future__ import annotations

from functools import cache

from tfext.programs.slots import Module, PerNode, Slot


@cache
def _tables() -> tuple[dict[str, Module], dict[str, str]]:
    # On first use, not with this package: the catalogue reads the names rules of tfext.programs.inputs.
    from tfext import catalog

    modules = {
        name: Module(
            name,
            ca=Slot("ca", m.ca.profile),
            leaves=tuple(Slot(s.name, s.profile) for s in m.leaves),
            service_hosts=m.service_hosts,
            per_node=tuple(PerNode(r.prefix, r.profile, r.source) for r in m.per_node),
        )
        for name, m in catalog.MODULES.items()
    }
    programs = {program: m.name for m in catalog.MODULES.values() for program in m.programs}
    return modules, programs


def __getattr__(name: str) -> object:
    """`MODULES` (module name => engine.Module) and `PROGRAMS` (program name => module name)."""
    if name == "MODULES":
        return _tables()[0]
    if name == "PROGRAMS":
        return _tables()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def handler(program: str):
    """The query handler of a program, for `tfext.protocol.run`."""
    from tfext.programs import engine

    modules, programs = _tables()
    module = modules[programs[program]]
    return lambda query: engine.run(module, query)
