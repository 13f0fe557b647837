"""A general forward-chaining production system (Rete), usable as a library without scenarios.

```python
from continuous.engine.rete import Engine, Pattern, V
eng = Engine()
eng.add_rule("path", [Pattern("edge", {"from": V("x"), "to": V("y")})],
             lambda act: eng.assert_fact("path", {"from": act["x"], "to": act["y"]}))
```
See docs/engine-core.md.
"""

from continuous.engine.rete.core import WME, Activation, Engine, Fact, Ne, Pattern, Rule, Strategy, Test, V

__all__ = ["WME", "Activation", "Engine", "Fact", "Ne", "Pattern", "Rule", "Strategy", "Test", "V"]
