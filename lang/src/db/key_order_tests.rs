//! [`key_order`](super::key_order): facts already in key order are found
//! so without sorting; others get the positions that order them; keys
//! given twice leave the order unknown (findings are then sorted).

use std::sync::Arc;

use super::{key_order, new_chunk, new_table, Database};
use crate::diag::{FileId, FileSpan};
use crate::eval::KeyOrder;
use crate::facts::{Origin, Row};
use crate::ir::Value;
use crate::syntax::ast::Span;

/// A table of one entity keyed by its first field, the keys cut into
/// chunks of `per_chunk` rows.
fn order_of(keys: &[Value], per_chunk: usize, numeric: bool) -> KeyOrder {
    let db = Database::default();
    let origin = Origin::Policy(FileSpan { file: FileId(0), span: Span::default() });
    let rows: Vec<Row> = keys.iter().map(|k| Row::new(Arc::from(vec![k.clone()]), origin.clone())).collect();
    let chunks = rows
        .chunks(per_chunk)
        .enumerate()
        .map(|(i, rows)| new_chunk(&db, 0, (i * per_chunk) as u32, Some(0), Arc::from(rows.to_vec())))
        .collect();
    let table = new_table(&db, 0, Some(0), keys.len() as u32, chunks);
    (*key_order(&db, table, numeric)).clone()
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
