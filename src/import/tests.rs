//! The spreadsheet-safe cell escaping of exports, which imports take back exactly.

use super::*;

#[test]
fn formula_cells_are_neutralised_and_the_neutralising_is_taken_back_exactly() {
    for (cell, exported) in [
        ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("''@x", "'''@x"),
        ("'plain", "'plain"),
        ("Acme", "Acme"),
        ("'", "'"),
        ("", ""),
    ] {
        assert_eq!(escape_cell(cell), exported, "{cell:?}");
        assert_eq!(unescape_cell(exported), cell, "{exported:?}");
    }
}
