//! Positions: byte offsets (what the engine speaks) to and from LSP
//! line/character positions, in the encoding negotiated with the client.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as the protocol says, and as
//! the parser and the diagnostics count them (`aims_lang::diag::LineIndex`).
//!
//! LSP counts characters in UTF-16 code units unless client and server
//! agree on UTF-8 or UTF-32. A position past the end of a line means the
//! end of that line; a line past the end of the text means its end. An
//! offset inside a multibyte character is moved to the character's start.

use aims_lang::syntax::Span;
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

/// The unit LSP character offsets are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Bytes.
    Utf8,
    /// UTF-16 code units: LSP's default.
    #[default]
    Utf16,
    /// Characters (code points).
    Utf32,
}

impl Encoding {
    /// The encoding to use given the client's preferences (in its order of
    /// preference); UTF-16 when the client says nothing.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        let offered = offered.unwrap_or_default();
        offered
            .iter()
            .find_map(|kind| match kind.as_str() {
                "utf-8" => Some(Encoding::Utf8),
                "utf-16" => Some(Encoding::Utf16),
                "utf-32" => Some(Encoding::Utf32),
                _ => None,
            })
            .unwrap_or(Encoding::Utf16)
    }

    /// The encoding as the protocol names it.
    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }

    /// The length of a character in this encoding's units.
    fn units(self, c: char) -> u32 {
        match self {
            Encoding::Utf8 => c.len_utf8() as u32,
            Encoding::Utf16 => c.len_utf16() as u32,
            Encoding::Utf32 => 1,
        }
    }

    /// The length of a text in this encoding's units.
    pub fn len(self, text: &str) -> u32 {
        match self {
            Encoding::Utf8 => text.len() as u32,
            _ => text.chars().map(|c| self.units(c)).sum(),
        }
    }
}

/// The start of every line of a text.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
    encoding: Encoding,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str, encoding: Encoding) -> LineIndex<'t> {
        let starts = aims_lang::diag::LineIndex::new(text).into_starts();
        LineIndex { text, starts, encoding }
    }

    /// The text of line `line` without its line break.
    fn line(&self, line: usize) -> (usize, &'t str) {
        let start = self.starts[line];
        let end = self.starts.get(line + 1).copied().unwrap_or(self.text.len());
        let content = &self.text[start..end];
        let content = content.strip_suffix('\n').unwrap_or(content);
        (start, content.strip_suffix('\r').unwrap_or(content))
    }

    /// The byte offset of a position, clamped to the text.
    pub fn offset(&self, position: Position) -> usize {
        let line = position.line as usize;
        if line >= self.starts.len() {
            return self.text.len();
        }
        let (start, content) = self.line(line);
        let mut units = 0u32;
        for (i, c) in content.char_indices() {
            if units >= position.character {
                return start + i;
            }
            units += self.encoding.units(c);
            if units > position.character {
                // Inside a character (half of a surrogate pair): its start.
                return start + i;
            }
        }
        start + content.len()
    }

    /// The position of a byte offset (clamped to the text, moved back to a
    /// character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        Position { line: line as u32, character: self.encoding.len(&self.text[start..offset]) }
    }

    pub fn range(&self, span: Span) -> Range {
        Range { start: self.position(span.start as usize), end: self.position(span.end as usize) }
    }

    /// The byte span of a range (start and end clamped, in order).
    pub fn span(&self, range: Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a.min(b), a.max(b))
    }

    /// The position of the end of the text.
    pub fn end(&self) -> Position {
        self.position(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a\n\"é😀x\" // ü\r\nlast";

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn utf16_counts_surrogate_pairs_as_two() {
        let index = LineIndex::new(TEXT, Encoding::Utf16);
        let x = TEXT.find('x').expect("x");
        assert_eq!(index.position(x), pos(1, 4), "quote, é, two units for 😀");
        assert_eq!(index.offset(pos(1, 4)), x);
        assert_eq!(index.offset(pos(1, 3)), TEXT.find('😀').expect("emoji"), "inside a pair: its start");
        let u = TEXT.find('ü').expect("ü");
        assert_eq!(index.position(u + 2), pos(1, 11), "after ü");
    }

    #[test]
    fn utf8_and_utf32_count_their_units() {
        let x = TEXT.find('x').expect("x");
        assert_eq!(LineIndex::new(TEXT, Encoding::Utf8).position(x), pos(1, 7));
        assert_eq!(LineIndex::new(TEXT, Encoding::Utf32).position(x), pos(1, 3));
        assert_eq!(LineIndex::new(TEXT, Encoding::Utf32).offset(pos(1, 3)), x);
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let index = LineIndex::new(TEXT, Encoding::Utf16);
        assert_eq!(index.offset(pos(0, 99)), 1, "past the end of a line: its end");
        assert_eq!(index.offset(pos(1, 99)), TEXT.find("\r\n").expect("crlf"), "a \\r is not part of the line");
        assert_eq!(index.offset(pos(42, 0)), TEXT.len(), "past the last line: the end");
        assert_eq!(index.position(10_000), index.end());
        let e = TEXT.find('é').expect("é");
        assert_eq!(index.position(e + 1), index.position(e), "inside a character: its start");
    }

    #[test]
    fn a_lone_cr_ends_a_line() {
        let text = "// note\rcontrol hidden\r\nb\nc";
        let index = LineIndex::new(text, Encoding::Utf16);
        let hidden = text.find("control").expect("control");
        assert_eq!(index.position(hidden), pos(1, 0));
        assert_eq!(index.offset(pos(1, 0)), hidden);
        assert_eq!(index.offset(pos(0, 99)), text.find('\r').expect("cr"), "the \\r is not part of line 0");
        assert_eq!(index.position(text.find('b').expect("b")), pos(2, 0));
        assert_eq!(index.position(text.rfind('c').expect("c") + 1), pos(3, 1));
    }

    #[test]
    fn negotiation_prefers_the_clients_order_and_defaults_to_utf16() {
        let offered = [PositionEncodingKind::UTF32, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&offered)), Encoding::Utf32);
        assert_eq!(Encoding::negotiate(Some(&[PositionEncodingKind::from("utf-7".to_string())])), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
    }
}
