//! Output files are all or nothing: each is checked before any work starts, written
//! under a hidden temporary name next to its destination, and renamed into place only
//! when every output of the command is complete. A failure anywhere (a bad value, a
//! plotting error, a full disk) leaves neither an empty nor a partial file behind, and
//! an existing file of the same name is not clobbered.

use std::path::{Path, PathBuf};

/// What a file holds; decides which names are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PNG image: the name must end in `.png` (any case), since the encoder picks
    /// the format by extension and PNG is the only one built in.
    Png,
    /// Text (CSV): any name.
    Text,
}

#[derive(Debug)]
struct Pending {
    dest: PathBuf,
    tmp: PathBuf,
}

/// A file to write: where the bytes go now, and the name the user gave (for messages).
#[derive(Debug, Clone)]
pub struct Staged {
    /// The temporary file to write.
    pub file: PathBuf,
    /// The destination named on the command line.
    pub dest: PathBuf,
}

/// The output files of one command (see the module docs).
#[derive(Debug, Default)]
pub struct Outputs {
    pending: Vec<Pending>,
}

impl Outputs {
    /// No outputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks that `dest` can be written as a `kind` file (name, folder, permission) and
    /// returns where to write it. `option` names the command-line
    /// option in errors (`--plot`).
    pub fn add(&mut self, option: &str, dest: &Path, kind: Kind) -> Result<Staged, String> {
        let shown = dest.display();
        let file_name = dest
            .file_name()
            .ok_or_else(|| format!("{option} {shown}: not a file name"))?;
        if kind == Kind::Png {
            let ext = dest.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !ext.eq_ignore_ascii_case("png") {
                return Err(format!(
                    "{option} {shown}: only PNG images can be written; give a file name ending in .png"
                ));
            }
        }
        if dest.is_dir() {
            return Err(format!("{option} {shown}: is a folder, not a file"));
        }
        if self.pending.iter().any(|p| p.dest == dest) {
            return Err(format!("{option} {shown}: the same file is given twice"));
        }
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(format!(".{}.partial", std::process::id()));
        if kind == Kind::Png {
            tmp_name.push(".png");
        }
        let tmp = dest.with_file_name(tmp_name);
        // Probe now, so a missing folder or a read-only one is reported before the
        // (possibly long) sampling, not after it.
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| format!("{option} {shown}: cannot write there: {e}"))?;
        let _ = std::fs::remove_file(&tmp);
        self.pending.push(Pending {
            dest: dest.to_path_buf(),
            tmp: tmp.clone(),
        });
        Ok(Staged {
            file: tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// Moves every finished file to its destination. If one move fails, the files not
    /// yet moved are removed and the error is returned.
    pub fn commit(mut self) -> Result<(), String> {
        for p in std::mem::take(&mut self.pending) {
            if let Err(e) = std::fs::rename(&p.tmp, &p.dest) {
                let _ = std::fs::remove_file(&p.tmp);
                return Err(format!("writing {}: {e}", p.dest.display()));
            }
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for p in &self.pending {
            let _ = std::fs::remove_file(&p.tmp);
        }
    }
}

/// Writes `lines` to a staged file, one per line.
pub fn write_lines<I: IntoIterator<Item = String>>(to: &Staged, lines: I) -> Result<(), String> {
    use std::io::Write;
    let e = |err: std::io::Error| format!("writing {}: {err}", to.dest.display());
    let file = std::fs::File::create(&to.file).map_err(e)?;
    let mut w = std::io::BufWriter::new(file);
    for l in lines {
        writeln!(w, "{l}").map_err(e)?;
    }
    w.into_inner().map_err(|err| e(err.into_error()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cli-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rejects_bad_names_before_creating_anything() {
        let d = dir("names");
        let mut o = Outputs::new();
        for bad in ["x.gif", "x", "x.png.txt"] {
            let e = o.add("--plot", &d.join(bad), Kind::Png).unwrap_err();
            assert!(e.contains("only PNG"), "{e}");
        }
        assert!(o.add("--plot", &d.join("X.PNG"), Kind::Png).is_ok());
        let e = o
            .add("--csv", &d.join("missing").join("x.csv"), Kind::Text)
            .unwrap_err();
        assert!(e.contains("cannot write there"), "{e}");
        drop(o);
        assert!(names(&d).is_empty(), "{:?}", names(&d));
    }

    #[test]
    fn nothing_is_left_unless_committed() {
        let d = dir("commit");
        let mut o = Outputs::new();
        let t = o.add("--csv", &d.join("a.csv"), Kind::Text).unwrap();
        write_lines(&t, ["1".to_string()]).unwrap();
        drop(o);
        assert!(names(&d).is_empty(), "{:?}", names(&d));
        let mut o = Outputs::new();
        let t = o.add("--csv", &d.join("a.csv"), Kind::Text).unwrap();
        write_lines(&t, ["1".to_string()]).unwrap();
        o.commit().unwrap();
        assert_eq!(names(&d), vec!["a.csv".to_string()]);
    }
}
