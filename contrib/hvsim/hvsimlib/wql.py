"""wql: the WQL subset WS-Man clients send to the Hyper-V provider.

SELECT <prop>[, <prop>...] | * FROM <Class> [WHERE <cond>]
cond := term { (AND | OR) term }, AND binding tighter than OR; term := NOT
term | ( cond ) | <prop> (= | != | <>) <literal>; literal := 'text' |
"text" | number | TRUE | FALSE | NULL. String comparison is case-insensitive
as in WMI. Raises WqlError (message like WMI's) on anything else.
"""

import re

MAX_QUERY = 4096

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'[^']*'|"[^"]*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op><>|!=|=|,|\(|\)|\*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""", re.X)


class WqlError(ValueError):
    pass


class Query:
    def __init__(self, props, cls, where):
        self.props = props      # None for *, else list of names
        self.cls = cls
        self.where = where      # None or predicate tree

    def matches(self, get):
        """get(name) -> value of the instance's property (case-insens.)."""
        return self.where is None or _eval(self.where, get)

    def names(self):
        out = set(n.lower() for n in (self.props or []))
        return out


def _tokens(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise WqlError("Invalid query: unexpected text at %r"
                           % text[pos:pos + 20])
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def parse(text):
    if len(text) > MAX_QUERY:
        raise WqlError("Invalid query: longer than %d characters" % MAX_QUERY)
    toks = _tokens(text)
    i = 0

    def peek(k=0):
        return toks[i + k] if i + k < len(toks) else (None, None)

    def word(w):
        t = peek()
        return t[0] == "word" and t[1].upper() == w

    if not word("SELECT"):
        raise WqlError("Invalid query: it does not start with SELECT")
    i += 1
    props = []
    if peek() == ("op", "*"):
        props = None
        i += 1
    else:
        while True:
            t = peek()
            if t[0] != "word" or t[1].upper() == "FROM":
                raise WqlError("Invalid query: property name expected")
            props.append(t[1])
            i += 1
            if peek() == ("op", ","):
                i += 1
                continue
            break
    if not word("FROM"):
        raise WqlError("Invalid query: FROM expected")
    i += 1
    t = peek()
    if t[0] != "word":
        raise WqlError("Invalid query: class name expected after FROM")
    cls = t[1]
    i += 1
    where = None
    if word("WHERE"):
        i += 1
        where, i = _cond(toks, i)
    if i != len(toks):
        raise WqlError("Invalid query: unexpected %r" % (toks[i][1],))
    return Query(props, cls, where)


def _binary(toks, i, op, operand):
    """operand (op operand)*, left-associative: ("or"|"and", left, right)."""
    left, i = operand(toks, i)
    while i < len(toks) and toks[i][0] == "word" and \
            toks[i][1].upper() == op:
        right, i = operand(toks, i + 1)
        left = (op.lower(), left, right)
    return left, i


def _cond(toks, i):
    return _binary(toks, i, "OR", _and)


def _and(toks, i):
    return _binary(toks, i, "AND", _term)


def _term(toks, i):
    if i >= len(toks):
        raise WqlError("Invalid query: condition expected")
    kind, val = toks[i]
    if kind == "word" and val.upper() == "NOT":
        t, i = _term(toks, i + 1)
        return ("not", t), i
    if (kind, val) == ("op", "("):
        c, i = _cond(toks, i + 1)
        if i >= len(toks) or toks[i] != ("op", ")"):
            raise WqlError("Invalid query: ) expected")
        return c, i + 1
    if kind != "word":
        raise WqlError("Invalid query: property name expected in WHERE")
    if i + 1 >= len(toks) or toks[i + 1][0] != "op" or \
            toks[i + 1][1] not in ("=", "!=", "<>"):
        raise WqlError("Invalid query: = or <> expected after %s" % val)
    if i + 2 >= len(toks):
        raise WqlError("Invalid query: value expected after %s" % val)
    lk, lv = toks[i + 2]
    if lk == "str":
        lit = lv[1:-1]
    elif lk == "num":
        lit = lv
    elif lk == "word" and lv.upper() in ("TRUE", "FALSE"):
        lit = lv.lower()
    elif lk == "word" and lv.upper() == "NULL":
        lit = None
    else:
        raise WqlError("Invalid query: literal expected after %s" % val)
    op = "eq" if toks[i + 1][1] == "=" else "ne"
    return (op, val, lit), i + 3


def _norm(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return None
    return str(v).lower()


def _eval(node, get):
    kind = node[0]
    if kind == "or":
        return _eval(node[1], get) or _eval(node[2], get)
    if kind == "and":
        return _eval(node[1], get) and _eval(node[2], get)
    if kind == "not":
        return not _eval(node[1], get)
    _, prop, lit = node
    v = _norm(get(prop))
    lit = None if lit is None else lit.lower()
    return (v == lit) if kind == "eq" else (v != lit)


def props_used(q):
    """Every property name the query references (for validation)."""
    names = list(q.props or [])

    def walk(n):
        if n is None:
            return
        if n[0] in ("or", "and"):
            walk(n[1])
            walk(n[2])
        elif n[0] == "not":
            walk(n[1])
        else:
            names.append(n[1])
    walk(q.where)
    return names
