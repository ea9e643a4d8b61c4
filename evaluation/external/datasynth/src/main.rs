//! Runs the datasynth-banking orchestrator once with a fixed seed and writes
//! what riskwatch's converter needs, one JSON object per line, so that the
//! Python side never has to parse the simulator's CSV flattening.
//!
//! The orchestrator of 0.2.3 labels account takeover, first-party fraud and
//! authorised push payment fraud by marking a tenth of a customer's existing
//! transactions at random (`inject_generic`): no pattern is injected. The
//! crate's own `FraudInjector` does write these patterns, so this program
//! also runs it for `FRAUD_CASES` customers of each kind, on days that leave
//! at least two months of history before them.
//!
//! Usage: datasynth-dump OUT_DIR [SEED] [RETAIL] [BUSINESS] [MONTHS] [FRAUD_CASES]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Duration, NaiveDate};
use datasynth_banking::typologies::FraudInjector;
use datasynth_banking::{BankTransaction, BankingConfig, BankingOrchestrator};
use datasynth_core::models::banking::Sophistication;
use serde::Serialize;

fn write_lines<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(dir.join(name))?);
    for row in rows {
        serde_json::to_writer(&mut out, row)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn arg<T: std::str::FromStr>(args: &[String], at: usize, default: T) -> T {
    match args.get(at) {
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("argument {at} ({text:?}) is not a number: see the usage line in main.rs");
            std::process::exit(2)
        }),
        None => default,
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(out_dir) = args.get(1) else {
        eprintln!("usage: datasynth-dump OUT_DIR [SEED] [RETAIL] [BUSINESS] [MONTHS]");
        std::process::exit(2)
    };
    let mut config = BankingConfig::default();
    let seed: u64 = arg(&args, 2, 20_260_101);
    config.population.retail_customers = arg(&args, 3, 2_000);
    config.population.business_customers = arg(&args, 4, 200);
    config.population.trusts = 0;
    config.population.period_months = arg(&args, 5, 6);
    let fraud_cases: usize = arg(&args, 6, 60);
    // Five times the default typology rates (same proportions), so that each
    // typology has enough cases to give a recall.
    let t = &mut config.typologies;
    t.suspicious_rate *= 5.0;
    t.structuring_rate *= 5.0;
    t.funnel_rate *= 5.0;
    t.layering_rate *= 5.0;
    t.mule_rate *= 5.0;
    t.fraud_rate *= 5.0;
    let start = NaiveDate::parse_from_str(&config.population.start_date, "%Y-%m-%d")
        .expect("the crate's default start date parses");
    let days = i64::from(config.population.period_months) * 30;
    let mut data = BankingOrchestrator::new(config, seed).generate();

    let mut fraud = FraudInjector::new(seed.wrapping_add(1_000_003));
    let levels = [
        Sophistication::Basic,
        Sophistication::Standard,
        Sophistication::Professional,
        Sophistication::Advanced,
    ];
    let mut injected: Vec<BankTransaction> = Vec::new();
    let clean: Vec<usize> = (0..data.customers.len())
        .filter(|&i| !data.customers[i].is_mule && data.customers[i].account_ids.len() == 1)
        .collect();
    let step = (clean.len() / (2 * fraud_cases).max(1)).max(1);
    for (n, &i) in clean.iter().step_by(step).take(2 * fraud_cases).enumerate() {
        let customer = &data.customers[i];
        let Some(account) = data
            .accounts
            .iter()
            .find(|a| a.account_id == customer.account_ids[0])
        else {
            continue;
        };
        let day = start + Duration::days(60 + (n as i64 * 37) % (days - 67).max(1));
        let level = levels[n % levels.len()];
        let txns = if n % 2 == 0 {
            fraud.generate_account_takeover(customer, account, day, day + Duration::days(7), level)
        } else {
            fraud.generate_app_fraud(customer, account, day, day + Duration::days(14), level)
        };
        injected.extend(txns);
    }
    let injected_count = injected.len();
    data.transactions.extend(injected);

    let dir = Path::new(out_dir);
    std::fs::create_dir_all(dir)?;
    write_lines(dir, "customers.jsonl", &data.customers)?;
    write_lines(dir, "accounts.jsonl", &data.accounts)?;
    write_lines(dir, "transactions.jsonl", &data.transactions)?;
    write_lines(dir, "scenarios.jsonl", &data.scenarios)?;
    write_lines(dir, "customer_labels.jsonl", &data.customer_labels)?;
    eprintln!(
        "datasynth-banking 0.2.3 seed {seed}: {} customers, {} transactions ({} suspicious, {} scenarios) \
         and {injected_count} takeover/push-payment transactions of the FraudInjector",
        data.stats.customer_count,
        data.stats.transaction_count,
        data.stats.suspicious_count,
        data.stats.scenario_count
    );
    Ok(())
}
