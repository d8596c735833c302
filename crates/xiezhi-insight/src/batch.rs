//! Line-oriented batch processing: one JSON object per line in, one per line out. A malformed
//! line is reported by its number into the error stream and skipped; the batch goes on.

use std::io::{BufRead, Write};

/// Counts of one batch run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub read: usize,
    pub written: usize,
    pub failed: usize,
}

/// Runs `f` on every non-blank line. Output lines go to `out`; a failure writes
/// `{"line": n, "error": "...", "input": "..."}` to `errors`. Invalid UTF-8 is a failure of
/// that line only.
pub fn run<R: BufRead, W: Write, E: Write>(
    input: R,
    mut out: W,
    mut errors: E,
    mut f: impl FnMut(&str) -> Result<String, String>,
) -> std::io::Result<BatchSummary> {
    let mut s = BatchSummary::default();
    let mut input = input;
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let result = match std::str::from_utf8(&buf) {
            Ok(text) => {
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                s.read += 1;
                f(text).map_err(|e| (e, text.to_string()))
            }
            Err(e) => {
                s.read += 1;
                Err((
                    format!("not UTF-8: {e}"),
                    String::from_utf8_lossy(&buf).into_owned(),
                ))
            }
        };
        match result {
            Ok(line) => {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
                s.written += 1;
            }
            Err((reason, text)) => {
                let input: String = text.chars().take(200).collect();
                let rec = serde_json::json!({"line": line_no, "error": reason, "input": input});
                writeln!(errors, "{rec}")?;
                s.failed += 1;
            }
        }
    }
    out.flush()?;
    errors.flush()?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_by_number_and_skipped() {
        let input = b"{\"a\":1}\n\nnot json\n\xff\xfe\n{\"a\":2}\n";
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let s = run(&input[..], &mut out, &mut err, |l| {
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| e.to_string())?;
            Ok(v["a"].to_string())
        })
        .unwrap();
        assert_eq!(
            s,
            BatchSummary {
                read: 4,
                written: 2,
                failed: 2
            }
        );
        assert_eq!(String::from_utf8(out).unwrap(), "1\n2\n");
        let err = String::from_utf8(err).unwrap();
        let lines: Vec<serde_json::Value> = err
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["line"], 3);
        assert_eq!(lines[1]["line"], 4);
        assert!(lines[1]["error"].as_str().unwrap().contains("UTF-8"));
    }
}
