//! Where the records and cells of a CSV text are: a record ends at a line
//! break outside quotes, so a quoted cell may hold line breaks, and a
//! record's lines may end in `\r\n`.
//!
//! The `csv` crate gives the byte where each record starts, but with
//! `\r\n` line ends that byte is the `\n` ending the record before (it
//! reads `\r` as the end and `\n` as an empty line), and it says nothing of
//! the cells; these functions find them in the text itself.

use crate::syntax::ast::Span;

/// The first byte of the record that the `csv` crate says starts at
/// `position`: line-break bytes there belong to the record before.
pub(super) fn record_start(text: &str, position: usize) -> usize {
    let position = position.min(text.len());
    position + text.as_bytes()[position..].iter().take_while(|&&b| b == b'\r' || b == b'\n').count()
}

/// The record starting at `start`, up to (not including) the line break
/// that ends it.
pub(super) fn record_span(text: &str, start: usize) -> Span {
    let (_, end) = scan(text, start, usize::MAX);
    Span::new(start, end)
}

/// Cell `column` of the record starting at `start`, quotes included; the
/// whole record when the record has fewer cells.
pub(super) fn cell_span(text: &str, start: usize, column: usize) -> Span {
    match scan(text, start, column) {
        (Some(cell), _) => cell,
        (None, end) => Span::new(start, end),
    }
}

/// Walks the record at `start`: the span of cell `column` (when it is
/// there), and where the record ends.
fn scan(text: &str, start: usize, column: usize) -> (Option<Span>, usize) {
    let bytes = text.as_bytes();
    let start = start.min(bytes.len());
    let mut cell = 0;
    let mut cell_start = start;
    let mut quoted = false;
    let mut found = None;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                if cell == column {
                    found = Some(Span::new(cell_start, i));
                }
                cell += 1;
                cell_start = i + 1;
            }
            b'\n' | b'\r' if !quoted => break,
            _ => {}
        }
        i += 1;
    }
    if cell == column {
        found = Some(Span::new(cell_start, i));
    }
    (found, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str, start: usize, column: usize) -> &str {
        &text[cell_span(text, start, column).range()]
    }

    #[test]
    fn cells_are_found_across_quoted_line_breaks_and_crlf() {
        let text = "id,name,n\r\na,\"two\r\nlines, and a comma\",x\r\nb,c,y";
        // The csv crate puts the second record at the header's `\n`.
        let second = record_start(text, 10);
        assert_eq!(second, 11);
        assert_eq!(cell(text, second, 0), "a");
        assert_eq!(cell(text, second, 1), "\"two\r\nlines, and a comma\"");
        assert_eq!(cell(text, second, 2), "x");
        let record = record_span(text, second);
        assert_eq!(&text[record.range()], "a,\"two\r\nlines, and a comma\",x");
        let third = record_start(text, record.end as usize);
        assert_eq!(cell(text, third, 2), "y");
        // A column past the record's end: the whole record.
        assert_eq!(cell(text, third, 5), "b,c,y");
        assert_eq!(cell(text, 0, 2), "n");
    }

    proptest::proptest! {
        #[test]
        fn spans_stay_inside_the_text_on_char_boundaries(text in "[a,\"\r\né–]{0,40}", at in 0usize..50, column in 0usize..6) {
            let start = record_start(&text, at.min(text.len()));
            if text.is_char_boundary(start) {
                for span in [record_span(&text, start), cell_span(&text, start, column)] {
                    proptest::prop_assert!(text.get(span.range()).is_some(), "{span:?} in {text:?}");
                }
            }
        }
    }
}
