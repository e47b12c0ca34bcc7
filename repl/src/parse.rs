//! Reading what is typed at the prompt: which kind of input a line is, the
//! arguments of the `:` commands, and whether a multi-line entry is complete.
//!
//! Nothing here knows the program: names are checked by the session, which
//! turns a [`ParseError`] into a diagnostic pointing into the typed line.

use std::ops::Range;

use aims_lang::syntax::DECLARATION_KEYWORDS;

/// A piece of the typed line and where it is (byte offsets into the line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The piece, read.
    pub value: T,
    /// Where it was typed.
    pub span: Range<usize>,
}

/// Why a command line could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, in one line.
    pub message: String,
    /// Where in the typed line.
    pub span: Range<usize>,
    /// The label under the span.
    pub label: String,
    /// How to put it right, when there is one thing to say.
    pub help: Option<String>,
}

/// The fact a what-if edit addresses: `AISystem "credit-scorer"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The entity's name.
    pub entity: Spanned<String>,
    /// The fact's key.
    pub key: Spanned<String>,
}

/// One line (or multi-line entry) typed at the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Nothing but white space, or a `//` comment.
    Empty,
    /// `:help` (`:h`, `:?`).
    Help,
    /// `:quit` (`:q`, `:exit`).
    Quit,
    /// `:set ENTITY "KEY".FIELD = VALUE`.
    Set {
        /// The fact.
        target: Target,
        /// The field set.
        field: Spanned<String>,
        /// The new value, as typed.
        value: Spanned<String>,
    },
    /// `:unset ENTITY "KEY".FIELD`.
    Unset {
        /// The fact.
        target: Target,
        /// The field made absent.
        field: Spanned<String>,
    },
    /// `:set NAME = VALUE` (`value`) or `:unset NAME` (none): a measure of
    /// the organisation.
    SetMeasure {
        /// The measure.
        name: Spanned<String>,
        /// Its value, as typed; `None`: not measured.
        value: Option<Spanned<String>>,
    },
    /// `:add ENTITY { field: value, .. }`.
    Add {
        /// The new fact's entity.
        entity: Spanned<String>,
        /// The record, as typed.
        record: Spanned<String>,
    },
    /// `:remove ENTITY "KEY"`.
    Remove {
        /// The fact.
        target: Target,
    },
    /// `:as-of DATE`, or `:as-of` alone (show the date).
    AsOf(Option<Spanned<String>>),
    /// `:why RULE [KEY]`: the trace of one outcome.
    Why {
        /// The control or audit.
        rule: Spanned<String>,
        /// The entity's key (a rule with a subject needs one).
        key: Option<Spanned<String>>,
    },
    /// `:diff`, or `:diff > FILE`: the whole diff written to a file.
    Diff(Option<Spanned<String>>),
    /// `:limit` (show it), `:limit off` (`Some(None)`), `:limit N`.
    Limit(Option<Option<usize>>),
    /// `:save FILE`: the last answer, in full, written to a file.
    Save(Spanned<String>),
    /// `:edits`: the edits applied, in order.
    Edits,
    /// `:undo`: the last edit taken back.
    Undo,
    /// `:reset`: every edit taken back.
    Reset,
    /// `:reload`: the project read again, the edits applied again.
    Reload,
    /// `:scenario save NAME`.
    ScenarioSave(Spanned<String>),
    /// `:scenario load NAME`.
    ScenarioLoad(Spanned<String>),
    /// `:scenario compare A B`.
    ScenarioCompare(Spanned<String>, Spanned<String>),
    /// `:scenario list`.
    ScenarioList,
    /// `:timing on` (`Some(true)`), `:timing off`, or `:timing` alone
    /// (`None`: switched).
    Timing(Option<bool>),
    /// A declaration (`control ...`, `fn ...`); `fact` declarations too.
    Declaration,
    /// `NAME` or `NAME on KEY`: a rule, risk or objective if the name is one,
    /// otherwise an expression.
    Named {
        /// The name.
        name: Spanned<String>,
        /// The entity's key after `on`.
        key: Option<Spanned<String>>,
    },
    /// Anything else: an expression to evaluate.
    Expression,
}

/// The commands, for `:help` and completion: (command, arguments, what it does).
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (":set", "ENTITY \"KEY\".FIELD = VALUE", "what if a fact's field had this value"),
    (":set", "MEASURE = VALUE", "what if a measure of the organisation had this value"),
    (":unset", "ENTITY \"KEY\".FIELD", "what if an optional field were not recorded"),
    (":unset", "MEASURE", "what if a measure of the organisation had no value"),
    (":add", "ENTITY { field: value, .. }", "what if this fact existed"),
    (":remove", "ENTITY \"KEY\"", "what if this fact did not exist"),
    (":as-of", "[DATE]", "evaluate as of another date (without a date: show it)"),
    (":why", "RULE [KEY]", "the trace of one outcome: applicability and every require"),
    (":diff", "[> FILE]", "every change since the facts were loaded (`> FILE`: written to a file)"),
    (":limit", "[N|off]", "cut answers after N lines of changes of each kind (50 unless set)"),
    (":save", "FILE", "write the last answer, in full, to a file"),
    (":edits", "", "the edits applied, in order"),
    (":undo", "", "take back the last edit"),
    (":reset", "", "take back every edit"),
    (":scenario", "save NAME | load NAME | compare A B | list", "name, restore and compare sets of edits"),
    (":reload", "", "re-read the project from disk and re-apply the edits"),
    (":timing", "on|off", "show the time of every command, from Enter to the answer, and its parts"),
    (":help", "", "this list"),
    (":quit", "", "leave (also :q, :exit, Ctrl-D)"),
];

fn error(message: impl Into<String>, span: Range<usize>, label: impl Into<String>) -> ParseError {
    ParseError { message: message.into(), span, label: label.into(), help: None }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A cursor over the typed line.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.rest().is_empty()
    }

    /// The span of the next token (for errors), at least one byte when possible.
    fn here(&mut self) -> Range<usize> {
        self.skip_ws();
        let len = self.rest().chars().next().map_or(0, char::len_utf8);
        self.pos..self.pos + len
    }

    fn ident(&mut self, what: &str) -> Result<Spanned<String>, ParseError> {
        self.skip_ws();
        let rest = self.rest();
        if !rest.starts_with(is_ident_start) {
            let span = self.here();
            return Err(error(format!("expected {what}"), span, format!("expected {what} here")));
        }
        let len = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
        let start = self.pos;
        self.pos += len;
        Ok(Spanned { value: rest[..len].to_string(), span: start..self.pos })
    }

    /// A key: `"text"` with `\"` and `\\` escapes, or a bare word that
    /// ends at white space (or at `.` when `stop_at_dot`).
    fn key(&mut self, stop_at_dot: bool) -> Result<Spanned<String>, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        if let Some(body) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = body.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        self.pos = start + 1 + i + 1;
                        return Ok(Spanned { value, span: start..self.pos });
                    }
                    '\\' => match chars.next() {
                        Some((_, e @ ('"' | '\\'))) => value.push(e),
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, 't')) => value.push('\t'),
                        Some((j, other)) => {
                            let at = start + 1 + j;
                            return Err(error(
                                format!("unknown escape `\\{other}`"),
                                at - 1..at + other.len_utf8(),
                                "not an escape",
                            ));
                        }
                        None => break,
                    },
                    c => value.push(c),
                }
            }
            let mut e = error("unterminated text", start..self.text.len(), "this key has no closing `\"`");
            e.help = Some("write the key in double quotes: \"credit-scorer\"".into());
            return Err(e);
        }
        let len = rest.find(|c: char| c.is_whitespace() || (stop_at_dot && c == '.') || c == '"').unwrap_or(rest.len());
        if len == 0 {
            let span = self.here();
            let mut e = error("expected a key", span, "expected the key of a fact here");
            e.help = Some("write the key in double quotes: \"credit-scorer\"".into());
            return Err(e);
        }
        self.pos += len;
        Ok(Spanned { value: rest[..len].to_string(), span: start..self.pos })
    }

    fn expect(&mut self, token: char, what: &str) -> Result<(), ParseError> {
        self.skip_ws();
        if self.rest().starts_with(token) {
            self.pos += token.len_utf8();
            Ok(())
        } else {
            let span = self.here();
            Err(error(format!("expected `{token}` {what}"), span, format!("expected `{token}`")))
        }
    }

    /// Everything left, trimmed; an error when nothing is left.
    fn remainder(&mut self, what: &str) -> Result<Spanned<String>, ParseError> {
        self.skip_ws();
        let rest = self.rest().trim_end();
        if rest.is_empty() {
            let at = self.text.trim_end().len();
            return Err(error(format!("expected {what}"), at..at, format!("expected {what} here")));
        }
        let start = self.pos;
        self.pos += rest.len();
        Ok(Spanned { value: rest.to_string(), span: start..self.pos })
    }

    fn word(&mut self) -> Option<Spanned<String>> {
        self.skip_ws();
        let rest = self.rest();
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        let start = self.pos;
        self.pos += len;
        Some(Spanned { value: rest[..len].to_string(), span: start..self.pos })
    }

    fn finish(&mut self) -> Result<(), ParseError> {
        if self.at_end() {
            Ok(())
        } else {
            let span = self.pos..self.text.trim_end().len();
            Err(error("unexpected text after the command", span, "not expected here"))
        }
    }

    /// A name alone, when what follows it (trimmed) is what `after`
    /// accepts (`= VALUE` of a measure); otherwise nothing is read.
    fn bare_name(&mut self, after: impl Fn(&str) -> bool) -> Result<Option<Spanned<String>>, ParseError> {
        let start = self.pos;
        let name = self.ident("a name")?;
        if after(self.rest().trim()) {
            return Ok(Some(name));
        }
        self.pos = start;
        Ok(None)
    }

    fn target(&mut self, dotted: bool) -> Result<Target, ParseError> {
        let entity = self.ident("an entity name")?;
        let key = self.key(dotted)?;
        Ok(Target { entity, key })
    }
}

/// Whether the text starts with a declaration keyword (or a `///` doc comment).
pub fn is_declaration(text: &str) -> bool {
    let text = text.trim_start();
    if text.starts_with("///") {
        return true;
    }
    let word_len = text.find(|c: char| !is_ident_char(c)).unwrap_or(text.len());
    let (word, rest) = text.split_at(word_len);
    DECLARATION_KEYWORDS.contains(&word) && (rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// The keyword of a declaration, after its doc comments.
pub fn declaration_keyword(text: &str) -> Option<&str> {
    let body = text.lines().map(str::trim_start).find(|l| !l.starts_with("///") && !l.is_empty())?;
    let len = body.find(|c: char| !is_ident_char(c)).unwrap_or(body.len());
    DECLARATION_KEYWORDS.iter().copied().find(|k| *k == &body[..len])
}

/// `fact ENTITY { .. }` typed at the prompt: the entity and the record.
pub fn fact_parts(text: &str) -> Result<(Spanned<String>, Spanned<String>), ParseError> {
    // Doc comments document nothing here: skip them.
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if !line.trim_start().starts_with("///") {
            break;
        }
        start += line.len();
    }
    let mut c = Cursor { text, pos: start };
    c.ident("`fact`")?;
    let entity = c.ident("an entity name")?;
    let record = c.remainder("a record `{ field: value, .. }`")?;
    Ok((entity, record))
}

/// Reads one entry.
pub fn parse(text: &str) -> Result<Input, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with("//") && !trimmed.starts_with("///") {
        return Ok(Input::Empty);
    }
    if is_declaration(text) {
        return Ok(Input::Declaration);
    }
    let mut c = Cursor { text, pos: 0 };
    c.skip_ws();
    if !c.rest().starts_with(':') {
        return Ok(named(text).unwrap_or(Input::Expression));
    }
    let command = c.word().unwrap_or(Spanned { value: String::new(), span: 0..0 });
    let input = match command.value.as_str() {
        ":help" | ":h" | ":?" => Input::Help,
        ":quit" | ":q" | ":exit" => Input::Quit,
        ":set" => {
            if let Some(name) = c.bare_name(|rest| rest.starts_with('='))? {
                c.expect('=', "before the value")?;
                let value = c.remainder("a value")?;
                return Ok(Input::SetMeasure { name, value: Some(value) });
            }
            let target = c.target(true)?;
            c.expect('.', "between the key and the field")?;
            let field = c.ident("a field name")?;
            c.expect('=', "before the value")?;
            let value = c.remainder("a value")?;
            return Ok(Input::Set { target, field, value });
        }
        ":unset" => {
            if let Some(name) = c.bare_name(str::is_empty)? {
                return Ok(Input::SetMeasure { name, value: None });
            }
            let target = c.target(true)?;
            c.expect('.', "between the key and the field")?;
            let field = c.ident("a field name")?;
            Input::Unset { target, field }
        }
        ":add" => {
            let entity = c.ident("an entity name")?;
            let record = c.remainder("a record `{ field: value, .. }`")?;
            return Ok(Input::Add { entity, record });
        }
        ":remove" => Input::Remove { target: c.target(false)? },
        ":as-of" | ":asof" => Input::AsOf(c.word()),
        ":why" => {
            let rule = c.ident("the name of a control or audit")?;
            let key = if c.at_end() { None } else { Some(c.key(false)?) };
            Input::Why { rule, key }
        }
        ":diff" => {
            if c.at_end() {
                Input::Diff(None)
            } else {
                c.expect('>', "before the file to write")?;
                return Ok(Input::Diff(Some(c.remainder("a file to write")?)));
            }
        }
        ":save" => return Ok(Input::Save(c.remainder("a file to write")?)),
        ":limit" => match c.word() {
            None => Input::Limit(None),
            Some(w) if w.value == "off" => Input::Limit(Some(None)),
            Some(w) => match w.value.parse::<usize>() {
                Ok(n) if n > 0 => Input::Limit(Some(Some(n))),
                _ => {
                    return Err(error(
                        "expected a number of lines or `off`",
                        w.span,
                        "expected a whole number above 0, or `off`",
                    ))
                }
            },
        },
        ":edits" => Input::Edits,
        ":undo" => Input::Undo,
        ":reset" => Input::Reset,
        ":reload" => Input::Reload,
        ":timing" => match c.word() {
            None => Input::Timing(None),
            Some(w) if w.value == "on" => Input::Timing(Some(true)),
            Some(w) if w.value == "off" => Input::Timing(Some(false)),
            Some(w) => return Err(error("expected `on` or `off`", w.span, "expected `on` or `off`")),
        },
        ":scenario" => {
            let Some(sub) = c.word() else {
                let at = text.trim_end().len();
                return Err(error(
                    "expected `save`, `load`, `compare` or `list`",
                    at..at,
                    "expected a sub-command here",
                ));
            };
            match sub.value.as_str() {
                "save" => Input::ScenarioSave(c.ident("a scenario name")?),
                "load" => Input::ScenarioLoad(c.ident("a scenario name")?),
                "compare" => {
                    let a = c.ident("a scenario name")?;
                    let b = c.ident("a second scenario name")?;
                    Input::ScenarioCompare(a, b)
                }
                "list" => Input::ScenarioList,
                _ => {
                    return Err(error(
                        "expected `save`, `load`, `compare` or `list`",
                        sub.span,
                        "not a scenario command",
                    ))
                }
            }
        }
        other => {
            let names = COMMANDS.iter().map(|(c, _, _)| *c);
            let mut e = error(format!("unknown command `{other}`"), command.span, "not a command");
            e.help = Some(match aims_lang::diag::did_you_mean(other, names, aims_lang::diag::Quote::Code) {
                Some(suggestion) => format!("{suggestion} (`:help` lists the commands)"),
                None => "`:help` lists the commands".into(),
            });
            return Err(e);
        }
    };
    c.finish()?;
    Ok(input)
}

/// `NAME` or `NAME on KEY`, if the text is exactly that.
fn named(text: &str) -> Option<Input> {
    let mut c = Cursor { text, pos: 0 };
    let name = c.ident("a name").ok()?;
    if c.at_end() {
        return Some(Input::Named { name, key: None });
    }
    let on = c.word()?;
    if on.value != "on" {
        return None;
    }
    let key = c.key(false).ok()?;
    c.at_end().then_some(Input::Named { name, key: Some(key) })
}

/// How deeply brackets are open at the end of the text, outside text
/// literals and comments (negative when more are closed than opened).
fn open_brackets(text: &str) -> i64 {
    let mut depth = 0i64;
    let mut in_text = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_text {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => in_text = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_text = true,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Declarations whose body is a `{ .. }` block.
const BLOCK_DECLARATIONS: &[&str] =
    &["enum", "record", "entity", "fact", "control", "audit", "scale", "matrix", "risk", "objective", "test"];

/// Whether a multi-line entry is still incomplete: brackets are open, or a
/// declaration that needs a `{ .. }` body has not opened it yet. A blank
/// line always ends the entry (so a stray bracket never traps the prompt).
pub fn needs_more(buffer: &str) -> bool {
    if buffer.trim().is_empty() {
        return false;
    }
    if buffer.contains('\n') && buffer.rsplit('\n').next().is_some_and(|l| l.trim().is_empty()) {
        return false;
    }
    if open_brackets(buffer) > 0 {
        return true;
    }
    if !is_declaration(buffer) {
        return false;
    }
    match declaration_keyword(buffer) {
        None => true,
        Some(k) => BLOCK_DECLARATIONS.contains(&k) && !buffer.contains('{'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_reads_target_field_and_value() {
        let input = parse(":set AISystem \"credit-scorer\".human_oversight = false").unwrap();
        let Input::Set { target, field, value } = input else { panic!("{input:?}") };
        assert_eq!(target.entity.value, "AISystem");
        assert_eq!(target.key.value, "credit-scorer");
        assert_eq!(target.key.span, 14..29);
        assert_eq!(field.value, "human_oversight");
        assert_eq!(value.value, "false");
    }

    #[test]
    fn bare_keys_stop_at_the_dot() {
        let Ok(Input::Unset { target, field }) = parse(":unset AISystem limit-adjuster.last_bias_test") else {
            panic!()
        };
        assert_eq!(target.key.value, "limit-adjuster");
        assert_eq!(field.value, "last_bias_test");
    }

    #[test]
    fn errors_point_into_the_line() {
        let e = parse(":set AISystem \"x\" human_oversight = true").unwrap_err();
        assert_eq!(e.span, 18..19);
        let e = parse(":set AISystem \"x").unwrap_err();
        assert_eq!(e.message, "unterminated text");
        let e = parse(":wyh bias_testing").unwrap_err();
        assert!(e.help.unwrap().contains(":why"));
        assert!(parse(":undo now").is_err());
    }

    #[test]
    fn named_queries_and_expressions() {
        let Ok(Input::Named { name, key: Some(key) }) = parse("bias_testing on \"credit-scorer\"") else { panic!() };
        assert_eq!((name.value.as_str(), key.value.as_str()), ("bias_testing", "credit-scorer"));
        assert!(matches!(parse("bias_testing"), Ok(Input::Named { key: None, .. })));
        assert_eq!(parse("count(s for s: AISystem)"), Ok(Input::Expression));
        assert_eq!(parse("x.y"), Ok(Input::Expression));
        assert_eq!(parse("control x \"t\" for s: AISystem { require true }"), Ok(Input::Declaration));
        assert_eq!(
            parse("controls"),
            Ok(Input::Named { name: Spanned { value: "controls".into(), span: 0..8 }, key: None })
        );
    }

    #[test]
    fn multi_line_entries() {
        assert!(needs_more("control x \"t\""));
        assert!(needs_more("control x \"t\"\n  for s: AISystem\n{"));
        assert!(!needs_more("control x \"t\"\n  for s: AISystem\n{\n  require true\n}"));
        assert!(!needs_more("control x \"t\"\n"), "a blank line ends the entry");
        assert!(needs_more("count(s for s: AISystem"));
        assert!(!needs_more("count(s for s: AISystem)"));
        assert!(!needs_more("fn f() = 1"));
        assert!(!needs_more("\"{\" == \"(\""), "brackets in text do not count");
        assert!(needs_more("/// docs"));
        assert!(!needs_more(":help"));
    }
}
