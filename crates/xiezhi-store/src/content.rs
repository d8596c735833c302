//! The content hash of a stored entity row, independent of the backend: every backend turns its
//! stored columns into [`Cell`]s and hashes them here, so identical rows hash identically in
//! SQLite and PostgreSQL.

use sha2::{Digest, Sha256};
use xiezhi_standard::Entity;

/// One stored column value, as the content hash sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// Fields a later revision of the standard added to an entity the first revision had.
fn later_fields(entity: Entity) -> &'static [xiezhi_standard::FieldDef] {
    let all = entity.fields();
    if Entity::V1_0.contains(&entity) {
        &all[entity.fields_v1_0().len()..]
    } else {
        &[]
    }
}

/// SHA-256 over a stored row: the entity name, then every column's name, type tag and value in
/// table order (`0x1d` name `0x1f` tag value; tags `n`, `i` + 8 big-endian bytes, `r` + 8
/// big-endian bytes, `t` + UTF-8, `b` + bytes), hex. Empty columns added by a later revision of
/// the standard are left out (see [`later_fields`]). The ledger records it on each write;
/// `Store::row_hashes` recomputes it, so an edited row no longer matches.
pub fn content_sha256<'a, N: AsRef<str>>(
    entity: Entity,
    names: &[N],
    cells: impl IntoIterator<Item = Cell<'a>>,
) -> String {
    let mut h = Sha256::new();
    h.update(entity.name().as_bytes());
    let later = later_fields(entity);
    for (name, cell) in names.iter().zip(cells) {
        // A column a later revision of the standard added to an existing table is hashed
        // only when it holds a value, so rows written before it keep their ledger hashes.
        if cell == Cell::Null && later.iter().any(|f| f.name == name.as_ref()) {
            continue;
        }
        h.update([0x1d]);
        h.update(name.as_ref().as_bytes());
        h.update([0x1f]);
        match cell {
            Cell::Null => h.update(b"n"),
            Cell::Int(n) => {
                h.update(b"i");
                h.update(n.to_be_bytes());
            }
            Cell::Real(f) => {
                h.update(b"r");
                h.update(f.to_be_bytes());
            }
            Cell::Text(t) => {
                h.update(b"t");
                h.update(t.as_bytes());
            }
            Cell::Blob(b) => {
                h.update(b"b");
                h.update(b);
            }
        }
    }
    crate::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_keeps_the_byte_encoding() {
        // Bytes: "person" 1d "uid" 1f "t" "P1" 1d "n" 1f "i" <1 as 8 BE bytes> 1d "x" 1f "n".
        let mut bytes = b"person\x1duid\x1ftP1\x1dn\x1fi".to_vec();
        bytes.extend(1i64.to_be_bytes());
        bytes.extend(b"\x1dx\x1fn");
        let expected = crate::hex(&Sha256::digest(&bytes));
        let got = content_sha256(
            Entity::Person,
            &["uid", "n", "x"],
            [Cell::Text("P1"), Cell::Int(1), Cell::Null],
        );
        assert_eq!(got, expected);
    }
}
