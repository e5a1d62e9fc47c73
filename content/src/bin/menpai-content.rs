//! `menpai-content`: validate a content pack, or write a synthetic region for benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("validate") if args.len() == 2 => validate(PathBuf::from(&args[1])),
        Some("synth") if args.len() == 4 => {
            synth(PathBuf::from(&args[1]), &args[2], PathBuf::from(&args[3]))
        }
        _ => {
            eprintln!(
                "usage:\n  menpai-content validate <pack-dir>\n  menpai-content synth <base-pack-dir> <items> <out-dir>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn validate(dir: PathBuf) -> anyhow::Result<()> {
    match menpai_content::load_dir(&dir) {
        Ok(pack) => {
            println!(
                "{}: valid — {} items, {} outlets, {} floor plans, {} FAQs, {} slides, {} forms",
                dir.display(),
                pack.items.len(),
                pack.outlets.len(),
                pack.floor_plans.len(),
                pack.faqs.len(),
                pack.slides.len(),
                pack.forms.len()
            );
            Ok(())
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            anyhow::bail!(
                "{}: {} problem(s); nothing was accepted",
                dir.display(),
                errors.len()
            )
        }
    }
}

fn synth(base: PathBuf, items: &str, out: PathBuf) -> anyhow::Result<()> {
    let total: usize = items
        .parse()
        .map_err(|_| anyhow::anyhow!("`{items}` is not a number of items"))?;
    let base = menpai_content::load_dir(&base).map_err(|errs| {
        anyhow::anyhow!(
            "the base pack is invalid:\n{}",
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let pack = menpai_content::synthetic::expand(&base, total, 42);
    menpai_content::write_dir(&pack, &out)?;
    println!("wrote {} items to {}", pack.items.len(), out.display());
    Ok(())
}
