//! Comparing secrets (tokens, codes, keyed hashes) so that timing does not tell how much of a
//! guess matched.

/// Whether `a` and `b` are equal, every byte compared whatever the first difference.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_only_when_equal() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"ab"));
        assert!(super::same(b"", b""));
    }
}
