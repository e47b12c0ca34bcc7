//! Tests on eight bytes at once: the "has a byte less than n" and "has a
//! zero byte" of *Bit Twiddling Hacks*. Each is exact as to whether any
//! byte of the word matches (not which), whatever the byte order, so the
//! scans of whole reports (terminal escapes, JSON escapes) skip a word at
//! a time and look at single bytes only where one matches.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// Whether a byte of `word` is below `n` (`n` at most 0x80).
pub fn has_byte_below(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH != 0
}

/// Whether a byte of `word` is `byte`.
pub fn has_byte(word: u64, byte: u8) -> bool {
    let zeroed = word ^ (ONES * u64::from(byte));
    zeroed.wrapping_sub(ONES) & !zeroed & HIGH != 0
}

/// Whether a byte of `word` has its high bit set (is not ASCII).
pub fn has_non_ascii(word: u64) -> bool {
    word & HIGH != 0
}
