//! [`key_order`](super::key_order): facts already in key order are found
//! so without sorting; others get the positions that order them; keys
//! given twice leave the order unknown (findings are then sorted).

use std::sync::Arc;

use super::{key_order, new_chunk, new_table, set_chunk_rows, Database};
use crate::diag::{FileId, FileSpan};
use crate::eval::KeyOrder;
use crate::facts::{Origin, Row};
use crate::ir::Value;
use crate::syntax::ast::Span;

/// A table of one entity keyed by its first field, the keys cut into
/// chunks of `per_chunk` rows.
fn order_of(keys: &[Value], per_chunk: usize, numeric: bool) -> KeyOrder {
    let db = Database::default();
    let table = table_of(&db, keys, per_chunk);
    (*key_order(&db, table, numeric)).clone()
}

fn table_of(db: &Database, keys: &[Value], per_chunk: usize) -> super::Table {
    let chunks = rows_of(keys)
        .chunks(per_chunk)
        .enumerate()
        .map(|(i, rows)| new_chunk(db, 0, (i * per_chunk) as u32, Some(0), Arc::from(rows.to_vec())))
        .collect();
    new_table(db, 0, Some(0), keys.len() as u32, chunks)
}

fn rows_of(keys: &[Value]) -> Vec<Row> {
    let origin = Origin::Policy(FileSpan { file: FileId(0), span: Span::default() });
    keys.iter().map(|k| Row::new(Arc::from(vec![k.clone()]), origin.clone())).collect()
}

fn texts(keys: &[&str]) -> Vec<Value> {
    keys.iter().map(|k| Value::Text(Arc::from(*k))).collect()
}

#[test]
fn keys_in_order_across_chunks_keep_the_rows_order() {
    assert_eq!(order_of(&texts(&["a", "b", "c", "d", "e"]), 2, false), KeyOrder::Rows);
}

#[test]
fn keys_out_of_order_get_the_positions_that_order_them() {
    let KeyOrder::Positions(order) = order_of(&texts(&["b", "c", "a", "d"]), 2, false) else {
        panic!("positions expected")
    };
    assert_eq!(&*order, &[2, 0, 1, 3]);
}

#[test]
fn int_keys_order_as_numbers_and_text_keys_as_text() {
    let keys = [Value::Int(9), Value::Int(10)];
    assert_eq!(order_of(&keys, 1, true), KeyOrder::Rows, "9 before 10");
    let KeyOrder::Positions(order) = order_of(&keys, 1, false) else { panic!("\"10\" before \"9\" as text") };
    assert_eq!(&*order, &[1, 0]);
}

#[test]
fn a_key_given_twice_leaves_the_order_unknown() {
    // Neighbours that are equal are not in ascending order: not `Rows`.
    assert_eq!(order_of(&texts(&["a", "b", "b", "c"]), 3, false), KeyOrder::Unknown);
    assert_eq!(order_of(&texts(&["b", "a", "b"]), 3, false), KeyOrder::Unknown);
}

#[test]
fn chunks_each_in_order_are_compared_where_they_meet() {
    // Each chunk's keys ascend, but the second chunk's come first.
    let KeyOrder::Positions(order) = order_of(&texts(&["c", "d", "a", "b"]), 2, false) else {
        panic!("positions expected")
    };
    assert_eq!(&*order, &[2, 3, 0, 1]);
    // The same key on both sides of a boundary.
    assert_eq!(order_of(&texts(&["a", "b", "b", "c"]), 2, false), KeyOrder::Unknown);
}

#[test]
fn an_edit_that_reorders_a_chunks_keys_changes_the_order() {
    let mut db = Database::default();
    let table = table_of(&db, &texts(&["a", "b", "c", "d"]), 2);
    assert_eq!(*key_order(&db, table, false), KeyOrder::Rows);
    // The first chunk's keys swapped: that chunk is no longer in order.
    let first = table.chunks(&db)[0];
    set_chunk_rows(&mut db, first, Arc::from(rows_of(&texts(&["b", "a"]))));
    let KeyOrder::Positions(order) = (*key_order(&db, table, false)).clone() else { panic!("positions expected") };
    assert_eq!(&*order, &[1, 0, 2, 3]);
    // Put back: in order again.
    set_chunk_rows(&mut db, first, Arc::from(rows_of(&texts(&["a", "b"]))));
    assert_eq!(*key_order(&db, table, false), KeyOrder::Rows);
}
