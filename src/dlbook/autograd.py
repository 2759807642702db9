"""A scalar reverse-mode automatic differentiation engine, small to read (chapter 3).

Every arithmetic operation on a :class:`Value` builds one node of a computational graph.
The node remembers

- ``data``: the number it holds (computed on the way forward);
- its *parents*: the Values it was computed from;
- its *local derivatives*: the partial derivative of this node with respect to each
  parent, evaluated at the forward values (for ``c = a * b``, ``b.data`` and
  ``a.data``).

``L.backward()`` then applies the chain rule from the output back to the inputs.
Visiting the nodes in reverse topological order guarantees that when we reach a node,
every path from the output to it has already delivered its contribution, so its adjoint
``dL/dnode`` is complete:

    dL/dparent  +=  dL/dnode * dnode/dparent     (chain rule, and sum rule over paths)

The result is added to each node's ``.grad``. As in PyTorch, gradients *accumulate*
across calls to ``backward``: set them back to zero (``zero_grad``) before the next
step.

Example::

    >>> x = Value(2.0)
    >>> y = x * x + 3 * x        # dy/dx = 2x + 3 = 7
    >>> y.backward()
    >>> x.grad
    7.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from dlbook import checks

__all__ = ["Value", "topological_order", "zero_grad"]


class Value:
    """One scalar node of a computational graph, with its gradient.

    Value(data) makes a leaf (an input or a parameter); operations on Values make inner
    nodes. The optional ``parents``/``local_grads`` arguments let you define a new
    operation: pass the Values it depends on and the partial derivative of the result
    with respect to each.
    """

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(
        self,
        data: float,
        parents: Sequence[Value] = (),
        local_grads: Sequence[float] = (),
        op: str = "",
        label: str = "",
    ) -> None:
        if isinstance(data, Value):
            raise TypeError(
                "data must be a number; Value(Value(...)) would cut the graph, "
                "use the Value itself"
            )
        self.data = checks.number(data, "data")
        self.grad = 0.0
        parents = tuple(checks.instance(p, "each parent", Value) for p in parents)
        local_grads = tuple(checks.number(g, "each local_grad") for g in local_grads)
        if len(parents) != len(local_grads):
            raise ValueError(
                f"need one local derivative per parent, got {len(parents)} parents "
                f"and {len(local_grads)} local_grads"
            )
        self.parents = parents
        self.local_grads = local_grads
        self.op = op
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _lift(other: object, op: str) -> Value:
        """Wrap a plain number as a constant leaf so both operands are Values."""
        if isinstance(other, Value):
            return other
        return Value(checks.number(other, f"the other operand of {op}"))

    # -- arithmetic --------------------------------------------------------------------
    def __add__(self, other: Value | float) -> Value:
        other = self._lift(other, "+")
        # d(a + b)/da = 1, d(a + b)/db = 1
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Value | float) -> Value:
        other = self._lift(other, "*")
        # d(a b)/da = b, d(a b)/db = a
        return Value(
            self.data * other.data, (self, other), (other.data, self.data), "*"
        )

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other: Value | float) -> Value:
        other = self._lift(other, "-")
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other: Value | float) -> Value:
        other = self._lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(
                f"division by a Value holding 0 (numerator {self.data:.6g})"
            )
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        return Value(
            self.data / other.data,
            (self, other),
            (1.0 / other.data, -self.data / other.data**2),
            "/",
        )

    def __pow__(self, exponent: Value | float) -> Value:
        if isinstance(exponent, Value):
            # a^b with both variable: a^b = exp(b log a), defined for a > 0 only.
            if self.data <= 0.0:
                raise ValueError(
                    f"Value ** Value needs a positive base, got {self.data:.6g}"
                )
            return (exponent * self.log()).exp()
        n = checks.number(exponent, "the exponent of **")
        x = self.data
        if x == 0.0 and n < 0:
            raise ZeroDivisionError(
                f"0 ** {n:g}: zero cannot be raised to a negative power"
            )
        if x < 0.0 and not n.is_integer():
            raise ValueError(
                f"{x:.6g} ** {n:g}: a negative base needs an integer exponent "
                "(the result would be complex)"
            )
        # d(x^n)/dx = n x^(n-1). Special cases at x = 0: the derivative of x^0 is 0, and
        # for 0 < n < 1 (a square root, say) the slope at 0 is infinite, as in PyTorch.
        if n == 0:
            local = 0.0
        elif x == 0.0 and n < 1:
            local = math.inf
        else:
            local = n * x ** (n - 1)
        return Value(x**n, (self,), (local,), f"**{n:g}")

    # Reflected operators: Python calls these for `2 + v`, `2 * v`, `2 - v`, `2 / v`,
    # `2 ** v`.
    def __radd__(self, other: float) -> Value:
        return self._lift(other, "+") + self

    def __rmul__(self, other: float) -> Value:
        return self._lift(other, "*") * self

    def __rsub__(self, other: float) -> Value:
        return self._lift(other, "-") - self

    def __rtruediv__(self, other: float) -> Value:
        return self._lift(other, "/") / self

    def __rpow__(self, base: float) -> Value:
        b = checks.number(base, "the base of **")
        if b <= 0.0:
            raise ValueError(f"number ** Value needs a positive base, got {b:g}")
        # b^x = exp(x log b), so d(b^x)/dx = b^x log b
        out = b**self.data
        return Value(out, (self,), (out * math.log(b),), f"{b:g}**")

    # -- elementary functions ----------------------------------------------------------
    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp({self.data:.6g}) overflows a float (the limit is about exp(709))"
            ) from None
        return Value(out, (self,), (out,), "exp")  # d e^x / dx = e^x

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(f"log needs a positive input, got {self.data:.6g}")
        return Value(
            math.log(self.data), (self,), (1.0 / self.data,), "log"
        )  # d ln x / dx = 1/x

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")  # d tanh x / dx = 1 - tanh^2 x

    def relu(self) -> Value:
        # The derivative at exactly 0 is taken to be 0, as in PyTorch.
        positive = self.data > 0.0
        return Value(
            self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,), "relu"
        )

    def sigmoid(self) -> Value:
        x = self.data
        # Two algebraically equal forms; each avoids overflow of exp on its side of 0.
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return Value(
            s, (self,), (s * (1.0 - s),), "sigmoid"
        )  # sigma' = sigma (1 - sigma)

    # -- reverse mode ------------------------------------------------------------------
    def backward(self, grad: float = 1.0) -> None:
        """Add d(self)/d(node) * grad to ``node.grad`` for every node below self.

        grad: the seed dL/d(self); 1.0 when self is the loss itself.
        """
        seed = checks.number(grad, "grad")
        order = topological_order(self)
        # Adjoints of this call only, so a node reached along several paths sums them
        # (sum rule) before passing its total on (chain rule).
        adjoint = {id(node): 0.0 for node in order}
        adjoint[id(self)] = seed
        for node in reversed(order):  # from the output back to the leaves
            g = adjoint[id(node)]
            node.grad += g
            for parent, local in zip(node.parents, node.local_grads):
                adjoint[id(parent)] += g * local


def topological_order(root: Value) -> list[Value]:
    """All nodes that ``root`` depends on, each after its parents (root last).

    An iterative depth-first search, so graphs thousands of nodes deep do not hit
    Python's recursion limit.
    """
    checks.instance(root, "root", Value)
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))  # revisit once all parents are placed
        for parent in node.parents:
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``.grad`` of every Value in ``values`` back to 0 (else they accumulate)."""
    values = [checks.instance(v, "each of values", Value) for v in values]
    for v in values:
        v.grad = 0.0
