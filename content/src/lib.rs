//! Content packs on disk: load a pack directory with per-file, per-field errors, write one back,
//! and grow the demo region into a synthetic one for benchmarks.
//!
//! A pack directory holds `region.json`, `items/<id>.json` (one item each), `outlets.json`,
//! `floorplans/<hall>.json`, `faqs.json`, `slides.json` and `forms/*.json` (arrays of forms).

pub mod pdf;
pub mod synthetic;

use std::fs;
use std::path::{Path, PathBuf};

use menpai_model::{ContentPack, ValidationError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Files larger than this are refused rather than read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The demo region shipped in this repository.
pub fn demo_region_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-region")
}

/// Loads a pack directory and validates it; every problem names file, record and field.
pub fn load_dir(dir: &Path) -> Result<ContentPack, Vec<ValidationError>> {
    let pack = read_dir(dir)?;
    pack.validate()?;
    Ok(pack)
}

/// Loads a pack directory without validating it.
pub fn read_dir(dir: &Path) -> Result<ContentPack, Vec<ValidationError>> {
    let mut pack = ContentPack::default();
    let mut errors = Vec::new();
    let mut reader = Reader {
        dir,
        errors: &mut errors,
    };

    if let Some(region) = reader.object::<menpai_model::Region>("region.json", "region") {
        pack.sources
            .insert(format!("region:{}", region.id), "region.json".into());
        pack.region = Some(region);
    }
    for file in reader.list("items") {
        if let Some(item) = reader.object::<menpai_model::Item>(&file, "item") {
            pack.sources.insert(format!("item:{}", item.id), file);
            pack.items.push(item);
        }
    }
    for file in reader.list("floorplans") {
        if let Some(plan) = reader.object::<menpai_model::FloorPlan>(&file, "floor plan") {
            pack.sources
                .insert(format!("floor_plan:{}", plan.hall), file);
            pack.floor_plans.push(plan);
        }
    }
    for file in reader.list("forms") {
        for form in reader.array::<menpai_model::Form>(&file, "form") {
            pack.sources
                .insert(format!("form:{}", form.id), file.clone());
            pack.forms.push(form);
        }
    }
    for (file, kind) in [
        ("outlets.json", "outlet"),
        ("faqs.json", "faq"),
        ("slides.json", "slide"),
    ] {
        pack.sources.insert(kind.to_owned(), file.to_owned());
    }
    if reader.dir.join("basemap.json").exists() {
        pack.base_map = reader.object("basemap.json", "base map");
    }
    pack.outlets = reader.array("outlets.json", "outlet");
    pack.faqs = reader.array("faqs.json", "faq");
    pack.slides = reader.array("slides.json", "slide");
    if reader.dir.join("notices.json").exists() {
        pack.sources.insert("notice".into(), "notices.json".into());
        pack.notices = reader.array("notices.json", "notice");
    }
    pack.items.sort_by(|a, b| a.id.cmp(&b.id));
    load_files(&mut reader, &mut pack);
    if errors.is_empty() {
        Ok(pack)
    } else {
        Err(errors)
    }
}

/// Reads the files the pack's records name by `path` (under `files/`): fills each reference's
/// SHA-256 and size, and keeps the bytes in `pack.files`.
fn load_files(reader: &mut Reader<'_>, pack: &mut ContentPack) {
    let mut found = Vec::new();
    for r in file_refs_mut(pack) {
        let Some(path) = r.path.take() else { continue };
        let safe = path.starts_with("files/")
            && !path.contains("..")
            && !path.contains('\\')
            && !path[6..].contains('/');
        let bytes = if safe {
            match fs::metadata(reader.dir.join(&path)) {
                Ok(m) if m.len() > menpai_model::file::MAX_FILE_BYTES => Err(format!(
                    "is {} bytes, over the {}-byte limit",
                    m.len(),
                    menpai_model::file::MAX_FILE_BYTES
                )),
                _ => fs::read(reader.dir.join(&path)).map_err(|e| format!("cannot be read: {e}")),
            }
        } else {
            Err("must be a file directly under files/".into())
        };
        match bytes {
            Ok(b) => {
                r.sha256 = menpai_model::bundle::sha256_hex(&b);
                r.size = b.len() as u64;
                found.push((r.sha256.clone(), b));
            }
            Err(e) => reader.fail(&path, "file", "path", e),
        }
    }
    pack.files.extend(found);
}

/// Every file reference of the pack's records, to fill in or rewrite.
fn file_refs_mut(pack: &mut ContentPack) -> Vec<&mut menpai_model::FileRef> {
    let mut refs: Vec<&mut menpai_model::FileRef> = Vec::new();
    for item in &mut pack.items {
        for m in item.materials.iter_mut().chain(
            item.situations
                .iter_mut()
                .flat_map(|s| s.materials.iter_mut()),
        ) {
            refs.extend(m.sample_image.as_mut());
        }
    }
    for f in &mut pack.forms {
        refs.extend(f.blank.as_mut());
        refs.extend(f.sample.as_mut());
        refs.extend(f.sample_image.as_mut());
    }
    for s in &mut pack.slides {
        refs.extend(s.image.as_mut());
    }
    refs
}

struct Reader<'a> {
    dir: &'a Path,
    errors: &'a mut Vec<ValidationError>,
}

impl Reader<'_> {
    fn fail(&mut self, file: &str, record: &str, field: &str, message: String) {
        self.errors.push(ValidationError {
            file: file.to_owned(),
            record: record.to_owned(),
            field: field.to_owned(),
            message,
        });
    }

    /// Relative paths of the `.json` files in a sub-directory, sorted.
    fn list(&mut self, sub: &str) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.dir.join(sub)) else {
            return Vec::new();
        };
        let mut files: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .map(|n| format!("{sub}/{n}"))
            .collect();
        files.sort();
        files
    }

    fn json(&mut self, file: &str, kind: &str) -> Option<serde_json::Value> {
        let path = self.dir.join(file);
        let size = match fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) => {
                self.fail(file, kind, "(file)", format!("cannot be read: {e}"));
                return None;
            }
        };
        if size > MAX_FILE_BYTES {
            self.fail(
                file,
                kind,
                "(file)",
                format!("is {size} bytes, over the {MAX_FILE_BYTES}-byte limit"),
            );
            return None;
        }
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.fail(
                    file,
                    kind,
                    "(file)",
                    format!("cannot be read as UTF-8 text: {e}"),
                );
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(file, kind, "(syntax)", format!("is not valid JSON: {e}"));
                None
            }
        }
    }

    fn object<T: DeserializeOwned>(&mut self, file: &str, kind: &str) -> Option<T> {
        // One record per file: until the JSON parses, its file name is its id.
        let stem = Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let record = match stem {
            Some(id) if file.contains('/') => format!("{kind} {id}"),
            _ => kind.to_owned(),
        };
        let value = self.json(file, &record)?;
        self.typed(file, kind, value)
    }

    fn array<T: DeserializeOwned>(&mut self, file: &str, kind: &str) -> Vec<T> {
        match self.json(file, kind) {
            Some(serde_json::Value::Array(values)) => values
                .into_iter()
                .filter_map(|v| self.typed(file, kind, v))
                .collect(),
            Some(_) => {
                self.fail(file, kind, "(file)", "must hold a JSON array".to_owned());
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Converts one record, naming its id and the failing field.
    fn typed<T: DeserializeOwned>(
        &mut self,
        file: &str,
        kind: &str,
        value: serde_json::Value,
    ) -> Option<T> {
        let id = value
            .get("id")
            .or_else(|| value.get("hall"))
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_owned();
        match serde_path_to_error::deserialize(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                self.fail(file, &format!("{kind} {id}"), &field, message);
                None
            }
        }
    }
}

/// Writes a pack in the directory layout `read_dir` expects.
pub fn write_dir(pack: &ContentPack, dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    for sub in ["items", "floorplans", "forms", "files"] {
        fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("creating {}", dir.join(sub).display()))?;
    }
    // The files the pack carries go under files/, named by their bytes; records name them by
    // path, as a hand-made pack does.
    let mut pack = pack.clone();
    let files = std::mem::take(&mut pack.files);
    for r in file_refs_mut(&mut pack) {
        let Some(bytes) = files.get(&r.sha256) else {
            continue;
        };
        let ext = r.name.rsplit_once('.').map_or("bin", |(_, e)| e);
        let path = format!("files/{}.{ext}", r.sha256);
        fs::write(dir.join(&path), bytes).with_context(|| format!("writing {path}"))?;
        r.path = Some(path);
    }
    let pack = &pack;
    let put = |name: &str, value: &dyn ErasedJson| -> anyhow::Result<()> {
        let path = dir.join(name);
        fs::write(&path, value.to_json()?).with_context(|| format!("writing {}", path.display()))
    };
    if let Some(region) = &pack.region {
        put("region.json", region)?;
    }
    for item in &pack.items {
        put(&format!("items/{}.json", item.id), item)?;
    }
    for plan in &pack.floor_plans {
        put(&format!("floorplans/{}.json", plan.hall), plan)?;
    }
    put("forms/forms.json", &pack.forms)?;
    if let Some(map) = &pack.base_map {
        put("basemap.json", map)?;
    }
    put("outlets.json", &pack.outlets)?;
    put("faqs.json", &pack.faqs)?;
    put("slides.json", &pack.slides)?;
    Ok(())
}

/// Lets `write_dir` take any serialisable record through one closure.
trait ErasedJson {
    fn to_json(&self) -> serde_json::Result<String>;
}

impl<T: Serialize> ErasedJson for T {
    fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}
