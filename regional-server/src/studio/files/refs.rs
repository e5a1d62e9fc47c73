//! File references a record brings into the content: each must name an uploaded file whose
//! bytes are what the reference says (type, size, a name that fits). Checked when a draft is
//! saved and again when a change set publishes, since an editor could otherwise name any blob
//! under any type and name.

use std::collections::HashSet;

use menpai_model::ContentPack;
use menpai_model::file::FileRef;

use crate::Server;

/// A reference as the content states it: its bytes, type and name.
type Stated = (String, String, String);

fn stated(f: &FileRef) -> Stated {
    (f.sha256.clone(), f.media_type.clone(), f.name.clone())
}

/// The references the published content already states (checked when they came in).
pub fn known(pack: &ContentPack) -> HashSet<Stated> {
    pack.file_refs().map(stated).collect()
}

/// Checks each reference of `refs` that `known` lacks against its uploaded bytes; the first
/// problem in plain Chinese.
pub fn check_new<'a>(
    server: &Server,
    known: &HashSet<Stated>,
    refs: impl Iterator<Item = &'a FileRef>,
) -> Result<(), String> {
    let mut seen = HashSet::new();
    for f in refs {
        let s = stated(f);
        if known.contains(&s) || !seen.insert(s) {
            continue;
        }
        let bytes = server
            .storage
            .blob(&f.sha256)
            .map_err(|e| format!("读不出文件“{}”：{e}", f.name))?
            .ok_or_else(|| format!("文件“{}”没有上传", f.name))?;
        let found = super::check::check(&f.name, Some(&f.media_type), &bytes)
            .map_err(|r| format!("文件“{}”：{}", f.name, r.message))?;
        if found.size != f.size || found.sha256 != f.sha256 {
            return Err(format!("文件“{}”的大小和上传的不一致", f.name));
        }
    }
    Ok(())
}
