//! Lexer and recursive-descent parser of the expression language: text to a syntax tree whose
//! nodes carry their byte span, so that type errors can point at the position.

/// A byte range of the source.
pub(crate) type Span = (usize, usize);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    /// A duration literal (`7d`, `24h`, `30min`, `90s`), in seconds.
    Dur(f64),
    Str(String),
    Ident(String),
    Punct(&'static str),
    End,
}

/// A syntax error: where and what.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub span: Span,
    pub message: String,
}

fn serr(span: Span, message: impl Into<String>) -> SyntaxError {
    SyntaxError { span, message: message.into() }
}

const PUNCT: &[&str] = &["==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "+", "-", "*", "/", "~"];

pub(crate) fn lex(src: &str) -> Result<Vec<(Tok, Span)>, SyntaxError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(b' ');
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() {
            while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                i += 1;
            }
            let text = src.get(start..i).unwrap_or("");
            let x: f64 = text.parse().map_err(|_| serr((start, i), format!("malformed number {text:?}")))?;
            let us = i;
            while b.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
                i += 1;
            }
            let tok = match src.get(us..i).unwrap_or("") {
                "" => Tok::Num(x),
                "d" => Tok::Dur(x * 86_400.0),
                "h" => Tok::Dur(x * 3_600.0),
                "min" => Tok::Dur(x * 60.0),
                "s" => Tok::Dur(x),
                u => {
                    return Err(serr(
                        (us, i),
                        format!("unknown duration unit {u:?}; use d (days), h (hours), min or s"),
                    ))
                }
            };
            out.push((tok, (start, i)));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src.get(start..i).unwrap_or("").to_string()), (start, i)));
            continue;
        }
        if c == b'"' || c == b'\'' {
            i += 1;
            let mut s = String::new();
            loop {
                let rest = src.get(i..).unwrap_or("");
                let Some(ch) = rest.chars().next() else {
                    return Err(serr((start, i), "unterminated string"));
                };
                i += ch.len_utf8();
                if ch == c as char {
                    break;
                }
                if ch == '\\' {
                    let Some(e) = src.get(i..).and_then(|r| r.chars().next()) else {
                        return Err(serr((start, i), "unterminated string"));
                    };
                    i += e.len_utf8();
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        '\\' | '"' | '\'' => s.push(e),
                        // Regex escapes (`\d`, `\.`) pass through unchanged.
                        other => {
                            s.push('\\');
                            s.push(other);
                        }
                    }
                    continue;
                }
                s.push(ch);
            }
            out.push((Tok::Str(s), (start, i)));
            continue;
        }
        let rest = src.get(i..).unwrap_or("");
        if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
            i += p.len();
            out.push((Tok::Punct(p), (start, i)));
            continue;
        }
        let ch = rest.chars().next().unwrap_or('?');
        let hint = match ch {
            '=' => "; compare with ==",
            '&' => "; write and",
            '|' => "; write or",
            '!' => "; write not",
            _ => "",
        };
        return Err(serr((start, start + ch.len_utf8()), format!("unexpected character {ch:?}{hint}")));
    }
    out.push((Tok::End, (b.len(), b.len())));
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

/// A collection an aggregate runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coll {
    Lines,
    Diagnoses,
    Operations,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Num(f64),
    Dur(f64),
    Str(String),
    Bool(bool),
    Ref { scope: Option<String>, name: String },
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Match(Box<Node>, Box<Node>),
    In { e: Box<Node>, list: Vec<Node>, negated: bool },
    IsNull { e: Box<Node>, negated: bool },
    Call { name: String, args: Vec<Node> },
    Agg { func: String, coll: Coll, filter: Option<Box<Node>>, value: Option<Box<Node>> },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub span: Span,
}

const AGGREGATES: &[&str] = &["count", "sum", "min", "max", "avg", "any", "all"];

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
}

pub(crate) fn parse(src: &str) -> Result<Node, SyntaxError> {
    let mut p = Parser { toks: lex(src)?, pos: 0 };
    let e = p.or()?;
    match p.peek() {
        Tok::End => Ok(e),
        t => Err(serr(p.span(), format!("unexpected {} after a complete expression", describe(t)))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(x) => format!("number {x}"),
        Tok::Dur(_) => "duration".into(),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Ident(s) => format!("{s:?}"),
        Tok::Punct(p) => format!("{p:?}"),
        Tok::End => "end of expression".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::End, |t| &t.0)
    }
    fn span(&self) -> Span {
        self.toks.get(self.pos).map_or((0, 0), |t| t.1)
    }
    fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).and_then(|i| self.toks.get(i)).map_or(0, |t| t.1 .1)
    }
    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks.get(self.pos).cloned().unwrap_or((Tok::End, (0, 0)));
        self.pos += 1;
        t
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(s) if *s == p)
    }
    fn expect_punct(&mut self, p: &str, what: &str) -> Result<(), SyntaxError> {
        if self.is_punct(p) {
            self.pos += 1;
            Ok(())
        } else {
            Err(serr(self.span(), format!("expected {p:?} {what}, found {}", describe(self.peek()))))
        }
    }

    fn bin(l: Node, op: BinOp, r: Node) -> Node {
        let span = (l.span.0, r.span.1);
        Node { kind: Kind::Bin(op, Box::new(l), Box::new(r)), span }
    }

    fn or(&mut self) -> Result<Node, SyntaxError> {
        let mut l = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            let r = self.and()?;
            l = Self::bin(l, BinOp::Or, r);
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Node, SyntaxError> {
        let mut l = self.not()?;
        while self.is_word("and") {
            self.pos += 1;
            let r = self.not()?;
            l = Self::bin(l, BinOp::And, r);
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Node, SyntaxError> {
        if self.is_word("not") {
            let start = self.span().0;
            self.pos += 1;
            let e = self.not()?;
            let span = (start, e.span.1);
            return Ok(Node { kind: Kind::Not(Box::new(e)), span });
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, SyntaxError> {
        let l = self.add()?;
        let op = match self.peek() {
            Tok::Punct("==") => Some(BinOp::Eq),
            Tok::Punct("!=") => Some(BinOp::Ne),
            Tok::Punct("<") => Some(BinOp::Lt),
            Tok::Punct("<=") => Some(BinOp::Le),
            Tok::Punct(">") => Some(BinOp::Gt),
            Tok::Punct(">=") => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let r = self.add()?;
            return Ok(Self::bin(l, op, r));
        }
        if self.is_punct("~") {
            self.pos += 1;
            let r = self.add()?;
            let span = (l.span.0, r.span.1);
            return Ok(Node { kind: Kind::Match(Box::new(l), Box::new(r)), span });
        }
        let negated_in =
            self.is_word("not") && matches!(self.toks.get(self.pos + 1), Some((Tok::Ident(s), _)) if s == "in");
        if self.is_word("in") || negated_in {
            self.pos += if negated_in { 2 } else { 1 };
            self.expect_punct("[", "to open the list after `in`")?;
            let mut list = Vec::new();
            if !self.is_punct("]") {
                loop {
                    list.push(self.unary()?);
                    if self.is_punct(",") {
                        self.pos += 1;
                        continue;
                    }
                    break;
                }
            }
            self.expect_punct("]", "to close the list")?;
            let span = (l.span.0, self.prev_end());
            return Ok(Node { kind: Kind::In { e: Box::new(l), list, negated: negated_in }, span });
        }
        if self.is_word("is") {
            self.pos += 1;
            let negated = self.is_word("not");
            if negated {
                self.pos += 1;
            }
            if !self.is_word("null") {
                return Err(serr(self.span(), format!("expected null after `is`, found {}", describe(self.peek()))));
            }
            self.pos += 1;
            let span = (l.span.0, self.prev_end());
            return Ok(Node { kind: Kind::IsNull { e: Box::new(l), negated }, span });
        }
        Ok(l)
    }

    fn add(&mut self) -> Result<Node, SyntaxError> {
        let mut l = self.mul()?;
        loop {
            let op = match self.peek() {
                Tok::Punct("+") => BinOp::Add,
                Tok::Punct("-") => BinOp::Sub,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.mul()?;
            l = Self::bin(l, op, r);
        }
    }

    fn mul(&mut self) -> Result<Node, SyntaxError> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Punct("*") => BinOp::Mul,
                Tok::Punct("/") => BinOp::Div,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.unary()?;
            l = Self::bin(l, op, r);
        }
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        if self.is_punct("-") {
            let start = self.span().0;
            self.pos += 1;
            let e = self.unary()?;
            let span = (start, e.span.1);
            return Ok(Node { kind: Kind::Neg(Box::new(e)), span });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, SyntaxError> {
        let (tok, span) = self.bump();
        let kind = match tok {
            Tok::Num(x) => Kind::Num(x),
            Tok::Dur(x) => Kind::Dur(x),
            Tok::Str(s) => Kind::Str(s),
            Tok::Punct("(") => {
                let e = self.or()?;
                self.expect_punct(")", "to close the parenthesis")?;
                return Ok(Node { kind: e.kind, span: (span.0, self.prev_end()) });
            }
            Tok::Ident(w) => match w.as_str() {
                "true" => Kind::Bool(true),
                "false" => Kind::Bool(false),
                "null" => return Err(serr(span, "a bare null compares to nothing; test with `is null`")),
                "and" | "or" | "not" | "in" | "is" | "where" => {
                    return Err(serr(span, format!("expected a value, found keyword {w:?}")))
                }
                _ if self.is_punct("(") => {
                    self.pos += 1;
                    return self.call(w, span);
                }
                _ if self.is_punct(".") => {
                    self.pos += 1;
                    let (t2, s2) = self.bump();
                    let Tok::Ident(name) = t2 else {
                        return Err(serr(s2, format!("expected a column name after {w:?}., found {}", describe(&t2))));
                    };
                    return Ok(Node { kind: Kind::Ref { scope: Some(w), name }, span: (span.0, s2.1) });
                }
                _ => Kind::Ref { scope: None, name: w },
            },
            t => return Err(serr(span, format!("expected a value, found {}", describe(&t)))),
        };
        Ok(Node { kind, span })
    }

    fn call(&mut self, name: String, span: Span) -> Result<Node, SyntaxError> {
        let coll = match self.peek() {
            Tok::Ident(s) if AGGREGATES.contains(&name.as_str()) => match s.as_str() {
                "lines" => Some(Coll::Lines),
                "diagnoses" => Some(Coll::Diagnoses),
                "operations" => Some(Coll::Operations),
                _ => None,
            },
            _ => None,
        };
        if let Some(coll) = coll {
            self.pos += 1;
            let filter = if self.is_word("where") {
                self.pos += 1;
                Some(Box::new(self.or()?))
            } else {
                None
            };
            let value = if self.is_punct(",") {
                self.pos += 1;
                Some(Box::new(self.or()?))
            } else {
                None
            };
            self.expect_punct(")", &format!("to close {name}(…)"))?;
            return Ok(Node { kind: Kind::Agg { func: name, coll, filter, value }, span: (span.0, self.prev_end()) });
        }
        if AGGREGATES.contains(&name.as_str()) {
            return Err(serr(
                self.span(),
                format!(
                    "{name}(…) takes a collection first: lines, diagnoses or operations, e.g. {name}(lines where …, …)"
                ),
            ));
        }
        let mut args = Vec::new();
        if !self.is_punct(")") {
            loop {
                args.push(self.or()?);
                if self.is_punct(",") {
                    self.pos += 1;
                    continue;
                }
                break;
            }
        }
        self.expect_punct(")", &format!("to close {name}(…)"))?;
        Ok(Node { kind: Kind::Call { name, args }, span: (span.0, self.prev_end()) })
    }
}

/// `line:column` (1-based, in characters) of byte offset `at`, and the source line with a caret
/// under the position.
pub(crate) fn locate(src: &str, span: Span) -> String {
    let at = span.0.min(src.len());
    let before = src.get(..at).unwrap_or("");
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = src.get(line_start..at).map_or(0, |s| s.chars().count()) + 1;
    let line_end = src.get(at..).and_then(|r| r.find('\n')).map_or(src.len(), |i| at + i);
    let text = src.get(line_start..line_end).unwrap_or("");
    let width = src.get(at..span.1.min(line_end).max(at)).map_or(1, |s| s.chars().count().max(1));
    format!("{line_no}:{col}\n  {text}\n  {}{}", " ".repeat(col - 1), "^".repeat(width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_spans() {
        let src = "a.x + 2 * 3 > 4 and not b.y in [\"1\", \"2\"]";
        let e = parse(src).unwrap();
        let Kind::Bin(BinOp::And, l, r) = e.kind else { panic!("and at top") };
        assert!(matches!(l.kind, Kind::Bin(BinOp::Gt, _, _)));
        assert!(matches!(r.kind, Kind::Not(_)));
        assert_eq!(e.span, (0, src.len()));
    }

    #[test]
    fn durations_strings_and_aggregates() {
        assert_eq!(lex("7d").unwrap()[0].0, Tok::Dur(7.0 * 86_400.0));
        assert_eq!(lex("'a\\\"b'").unwrap()[0].0, Tok::Str("a\"b".into()));
        let e = parse("sum(lines where t == \"03\", amt) / 2").unwrap();
        let Kind::Bin(BinOp::Div, l, _) = e.kind else { panic!() };
        assert!(matches!(l.kind, Kind::Agg { coll: Coll::Lines, .. }));
        assert!(parse("a not in [1]").is_ok());
        assert!(parse("a is not null").is_ok());
    }

    #[test]
    fn errors_point_at_the_fault() {
        let e = parse("line.x = 1").unwrap_err();
        assert_eq!(e.span, (7, 8));
        assert!(e.message.contains("=="));
        assert!(parse("(a").unwrap_err().message.contains("close the parenthesis"));
        assert!(parse("5x").unwrap_err().message.contains("unknown duration unit"));
        assert!(parse("sum(foo)").unwrap_err().message.contains("collection"));
        assert_eq!(locate("ab\ncd ef", (6, 8)), "2:4\n  cd ef\n     ^^");
    }
}
