//! The incomplete beta function, its partials and the Beta/Dirichlet implicit
//! reparameterization gradients (`special::beta`) against mpmath references
//! (reference/beta_special.json, from reference/gen_beta_special.py), plus
//! self-consistency checks. `--nocapture` prints the accuracy tables; the ignored
//! `implicit_grad_timing` prints ns/call (representative with
//! `cargo test --release -p candle-distributions --test suite special_beta:: -- --ignored --nocapture`).

use candle_distributions::special::beta::{
    beta_implicit_grad, beta_implicit_grad_f32, beta_implicit_grad_f32_slice,
    beta_implicit_grad_slice, betainc, betainc_complement, betainc_grad, betainc_xy,
};
use serde_json::Value;

use crate::common;
use common::{num, quote_numbers};

fn load() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/beta_special.json"
    );
    let text = std::fs::read_to_string(path).expect("reference/beta_special.json");
    serde_json::from_str(&quote_numbers(&text)).expect("reference JSON parses")
}

/// Relative error; where the reference is 0 the result must be below 1e-300 in
/// magnitude (reported as 0 error then).
fn rel(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        return if got.abs() <= 1e-300 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let e = ((got - want) / want).abs();
    if e.is_nan() {
        f64::INFINITY
    } else {
        e
    }
}

struct BetaCase {
    a: f64,
    b: f64,
    x: f64,
    kind: String,
    v: Vec<(&'static str, f64)>,
}

const FIELDS: [&str; 7] = ["I", "Ic", "dI_dx", "dI_da", "dI_db", "dx_da", "dx_db"];

fn beta_cases(doc: &Value) -> Vec<BetaCase> {
    doc["beta"]
        .as_array()
        .expect("beta cases")
        .iter()
        .map(|c| BetaCase {
            a: num(&c["a"]),
            b: num(&c["b"]),
            x: num(&c["x"]),
            kind: c["kind"].as_str().expect("kind").to_string(),
            v: FIELDS.iter().map(|&f| (f, num(&c[f]))).collect(),
        })
        .collect()
}

impl BetaCase {
    fn get(&self, f: &str) -> f64 {
        self.v.iter().find(|(k, _)| *k == f).expect("field").1
    }
}

/// Tracks the largest error of one quantity and where it occurred.
#[derive(Default)]
struct Worst {
    err: f64,
    at: String,
}

impl Worst {
    fn add(&mut self, err: f64, at: impl FnOnce() -> String) {
        if err > self.err || (err.is_nan() && !self.err.is_nan()) {
            self.err = err;
            self.at = at();
        }
    }
}

#[test]
fn betainc_and_partials_match_mpmath() {
    let doc = load();
    let cases = beta_cases(&doc);
    assert!(cases.len() > 500, "{} cases", cases.len());
    let names = ["I", "1-I", "I (xy form)", "dI/dx", "dI/da", "dI/db"];
    let mut worst: Vec<Worst> = names.iter().map(|_| Worst::default()).collect();
    for c in &cases {
        let (a, b, x) = (c.a, c.b, c.x);
        let (dx, da, db) = betainc_grad(a, b, x);
        let got = [
            (betainc(a, b, x), c.get("I")),
            (betainc_complement(a, b, x), c.get("Ic")),
            // 1 − x is exact for x ≥ 1/2; below, pass the x = 1 − y of the complement.
            if x >= 0.5 {
                (betainc_xy(b, a, 1.0 - x, x), c.get("Ic"))
            } else {
                (betainc_xy(a, b, x, 1.0 - x), c.get("I"))
            },
            (dx, c.get("dI_dx")),
            (da, c.get("dI_da")),
            (db, c.get("dI_db")),
        ];
        for (w, (g, r)) in worst.iter_mut().zip(got) {
            w.add(rel(g, r), || {
                format!("a={a:e} b={b:e} x={x:e} ({}) got {g:e} want {r:e}", c.kind)
            });
        }
    }
    println!(
        "\nincomplete beta vs mpmath ({} cases): max relative error",
        cases.len()
    );
    for (n, w) in names.iter().zip(&worst) {
        println!("  {n:<12} {:9.2e}   at {}", w.err, w.at);
    }
    for (i, w) in worst.iter().enumerate() {
        let tol = if i < 3 { 1e-12 } else { 1e-10 };
        assert!(
            w.err <= tol,
            "{}: {:e} > {tol:e} at {}",
            names[i],
            w.err,
            w.at
        );
    }
}

const PARAMS: [f64; 8] = [1e-2, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1e3];

fn param_index(v: f64) -> usize {
    PARAMS
        .iter()
        .position(|&p| (p as f32) as f64 == v)
        .unwrap_or_else(|| panic!("parameter {v} not on the grid"))
}

fn print_table(title: &str, table: &[[f64; 8]; 8]) {
    println!("\n{title}\n  a \\ b  {}", {
        let h: Vec<String> = PARAMS.iter().map(|p| format!("{p:>8.0e}")).collect();
        h.join(" ")
    });
    for (p, row) in PARAMS.iter().zip(table) {
        let r: Vec<String> = row.iter().map(|e| format!("{e:>8.1e}")).collect();
        println!("  {p:>7.0e} {}", r.join(" "));
    }
}

#[test]
fn beta_implicit_grad_matches_mpmath() {
    let doc = load();
    let cases = beta_cases(&doc);
    let mut table = [[0.0f64; 8]; 8];
    let mut table32 = [[0.0f64; 8]; 8];
    let (mut worst, mut worst32) = (Worst::default(), Worst::default());
    let (mut wide, mut wide32) = (Worst::default(), Worst::default());
    for c in &cases {
        let (a, b, x) = (c.a, c.b, c.x);
        let want = (c.get("dx_da"), c.get("dx_db"));
        if c.kind == "wide" {
            // a or b = 1e4: beyond the range the implicit gradient is specified for.
            for (f, w) in [
                (
                    beta_implicit_grad as fn(f64, f64, f64) -> (f64, f64),
                    &mut wide,
                ),
                (beta_implicit_grad_f32, &mut wide32),
            ] {
                let got = f(a, b, x);
                let e = rel(got.0, want.0).max(rel(got.1, want.1));
                w.add(e, || {
                    format!("a={a:e} b={b:e} x={x:e} got {got:?} want {want:?}")
                });
            }
            continue;
        }
        let (i, j) = (param_index(a), param_index(b));
        for (f, tab, w) in [
            (
                beta_implicit_grad as fn(f64, f64, f64) -> (f64, f64),
                &mut table,
                &mut worst,
            ),
            (beta_implicit_grad_f32, &mut table32, &mut worst32),
        ] {
            let got = f(a, b, x);
            assert!(
                got.0.is_finite() && got.1.is_finite(),
                "a={a} b={b} x={x:e}: {got:?}"
            );
            let e = rel(got.0, want.0).max(rel(got.1, want.1));
            tab[i][j] = tab[i][j].max(e);
            w.add(e, || {
                format!("a={a:e} b={b:e} x={x:e} got {got:?} want {want:?}")
            });
        }
    }
    print_table(
        "Beta implicit gradient (dx/da, dx/db) vs mpmath: max rel err over the quantiles",
        &table,
    );
    println!("  worst {:.2e} at {}", worst.err, worst.at);
    print_table("same, beta_implicit_grad_f32", &table32);
    println!("  worst {:.2e} at {}", worst32.err, worst32.at);
    println!(
        "wide cases (a or b = 1e4): f64 {:.2e} at {}\n                            f32 variant {:.2e}",
        wide.err, wide.at, wide32.err
    );
    assert!(worst.err <= 5e-5, "f64: {:e} at {}", worst.err, worst.at);
    assert!(
        worst32.err <= 2e-6,
        "f32 variant: {:e} at {}",
        worst32.err,
        worst32.at
    );
}

#[test]
fn dirichlet_implicit_grad_matches_mpmath() {
    let doc = load();
    let cases = doc["dirichlet"].as_array().expect("dirichlet cases");
    assert!(cases.len() >= 40);
    let mut rows: Vec<(String, f64, f64, usize)> = Vec::new();
    for c in cases {
        let alpha: Vec<f64> = c["alpha"]
            .as_array()
            .expect("alpha")
            .iter()
            .map(num)
            .collect();
        let i: usize = c["i"].as_str().expect("i").parse().expect("i");
        let (a, b, x) = (num(&c["a"]), num(&c["b"]), num(&c["x"]));
        // b = α₀ − α_i with α₀ summed in order in f64, as a sampler would.
        let a0: f64 = alpha.iter().sum();
        assert_eq!((alpha[i], a0 - alpha[i]), (a, b));
        let want = (num(&c["dx_da"]), num(&c["dx_db"]));
        let got = beta_implicit_grad(a, b, x);
        let got32 = beta_implicit_grad_f32(a, b, x);
        let e = rel(got.0, want.0).max(rel(got.1, want.1));
        let e32 = rel(got32.0, want.0).max(rel(got32.1, want.1));
        let key = format!("{alpha:?}");
        match rows.iter_mut().find(|r| r.0 == key) {
            Some(r) => {
                r.1 = r.1.max(e);
                r.2 = r.2.max(e32);
                r.3 += 1;
            }
            None => rows.push((key, e, e32, 1)),
        }
    }
    println!("\nDirichlet marginal implicit gradient dx_i/dα_i (and dx_i/dα_j) vs mpmath");
    println!(
        "  {:>9} {:>9} {:>5}  concentration",
        "f64", "f32 var.", "cases"
    );
    for (k, e, e32, n) in &rows {
        let short: String = k.chars().take(60).collect();
        println!("  {e:>9.2e} {e32:>9.2e} {n:>5}  {short}");
    }
    for (k, e, e32, _) in &rows {
        assert!(*e <= 1e-4 && *e32 <= 1e-4, "{k}: {e:e} / {e32:e}");
    }
}

/// Parameters and points that are not on the reference grid.
fn scattered() -> Vec<(f64, f64, f64)> {
    let ps = [
        0.013, 0.27, 0.77, 1.0, 1.9, 3.3, 7.0, 17.5, 64.0, 350.0, 2500.0,
    ];
    let xs = [
        1e-250,
        1e-12,
        1e-3,
        0.04,
        0.3,
        0.5,
        0.61,
        0.93,
        0.9999,
        1.0 - 1e-13,
    ];
    let mut out = Vec::new();
    for &a in &ps {
        for &b in &ps {
            for &x in &xs {
                out.push((a, b, x));
            }
        }
    }
    out
}

#[test]
fn symmetry_of_the_incomplete_beta() {
    // For x ≥ 1/2 (where 1 − x is exact): I_x(a, b) + I_{1−x}(b, a) = 1, and the
    // complement equals the mirrored call. Both are computed independently (the
    // fraction is evaluated on opposite sides of its switch point for the two calls).
    let (mut worst_sum, mut worst_rel) = (0.0f64, 0.0f64);
    for (a, b, x) in scattered() {
        let (i, ic) = (betainc(a, b, x), betainc_complement(a, b, x));
        assert!((0.0..=1.0).contains(&i) && (0.0..=1.0).contains(&ic));
        if x < 0.5 {
            continue;
        }
        let mirrored = betainc(b, a, 1.0 - x);
        worst_sum = worst_sum.max((i + mirrored - 1.0).abs());
        worst_rel = worst_rel
            .max(rel(ic, mirrored))
            .max(rel(i, betainc_complement(b, a, 1.0 - x)));
    }
    println!("max |I_x(a,b) + I_(1-x)(b,a) - 1| = {worst_sum:.1e}, complement vs mirrored: {worst_rel:.1e}");
    // Rounding grows slowly with a + b (1.6e-14 at a = b = 2500, x = 1/2).
    assert!(worst_sum <= 1e-13, "{worst_sum:e}");
    assert!(worst_rel <= 1e-12, "{worst_rel:e}");
}

#[test]
fn density_matches_finite_difference_of_betainc() {
    let mut worst = 0.0f64;
    for (a, b, x) in scattered() {
        if !(1e-3..=0.95).contains(&x) {
            continue;
        }
        // Difference the smaller tail (the larger one is ≈ 1 and has no digits left).
        let upper = betainc_complement(a, b, x) < 0.5;
        let tail = |t: f64| {
            if upper {
                -betainc_complement(a, b, t)
            } else {
                betainc(a, b, t)
            }
        };
        let h = 1e-6 * x.min(1.0 - x);
        let fd = (tail(x + h) - tail(x - h)) / (2.0 * h);
        let (dx, _, _) = betainc_grad(a, b, x);
        if !(1e-250..=1e250).contains(&dx) || tail(x).abs() < 1e-250 {
            continue;
        }
        let e = ((fd - dx) / dx).abs();
        worst = worst.max(e);
        assert!(e < 1e-6, "a={a} b={b} x={x}: fd {fd:e} vs {dx:e}");
    }
    println!("dI/dx vs central difference: max rel {worst:.1e}");
}

/// The q-quantile of Beta(a, b) by bisection on I (on ln x when tiny), to full
/// precision.
fn quantile(a: f64, b: f64, q: f64) -> f64 {
    let (mut lo, mut hi) = (f64::MIN_POSITIVE.ln(), 0.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if betainc(a, b, mid.exp()) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (mut lo, mut hi) = (lo.exp(), hi.exp().min(1.0));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if betainc(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn implicit_grad_matches_finite_difference_of_the_quantile() {
    let mut worst = 0.0f64;
    for &(a, b) in &[(0.3, 0.7), (1.0, 1.0), (2.5, 9.0), (4.0, 0.6), (30.0, 12.0)] {
        for &q in &[0.01, 0.3, 0.5, 0.8, 0.99] {
            let x = quantile(a, b, q);
            let (ga, gb) = beta_implicit_grad(a, b, x);
            let ha = 1e-5 * a;
            let fa = (quantile(a + ha, b, q) - quantile(a - ha, b, q)) / (2.0 * ha);
            let hb = 1e-5 * b;
            let fb = (quantile(a, b + hb, q) - quantile(a, b - hb, q)) / (2.0 * hb);
            let e = ((fa - ga) / ga).abs().max(((fb - gb) / gb).abs());
            worst = worst.max(e);
            assert!(
                e < 1e-6,
                "a={a} b={b} q={q} x={x}: ({ga:e}, {gb:e}) vs fd ({fa:e}, {fb:e})"
            );
        }
    }
    println!(
        "implicit gradient vs central difference of the bisected quantile: max rel {worst:.1e}"
    );
}

#[test]
fn edges_and_invalid_inputs() {
    assert!(betainc(-1.0, 2.0, 0.5).is_nan());
    assert!(betainc(1.0, 0.0, 0.5).is_nan());
    assert!(betainc(1.0, 2.0, 1.5).is_nan());
    assert!(betainc(1.0, 2.0, f64::NAN).is_nan());
    assert_eq!(betainc(2.0, 3.0, 0.0), 0.0);
    assert_eq!(betainc(2.0, 3.0, 1.0), 1.0);
    assert_eq!(betainc_complement(2.0, 3.0, 1.0), 0.0);
    // I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 − (1−x)^b.
    // (Through exp(ln(...)): relative error grows like ε·|ln I|, 1.5e-13 at I = 1e-300.)
    for &x in &[1e-300, 1e-9, 0.2, 0.5, 0.75, 1.0 - 1e-12] {
        let y: f64 = 1.0 - x;
        for (got, want) in [
            (betainc(1.0, 1.0, x), x),
            (betainc(3.5, 1.0, x), x.powf(3.5)),
            (betainc_complement(1.0, 2.5, x), y.powf(2.5)),
        ] {
            let tol = 2.0 * f64::EPSILON * (2.0 + want.ln().abs());
            assert!(rel(got, want) < tol, "x={x}: {got:e} vs {want:e}");
        }
    }
    assert_eq!(beta_implicit_grad(0.5, 0.5, 0.0), (0.0, 0.0));
    assert_eq!(beta_implicit_grad(0.5, 0.5, 1.0), (0.0, 0.0));
    assert!(beta_implicit_grad(0.5, -0.5, 0.5).0.is_nan());
    // The samplers' clamps: smallest normals and the largest float below 1.
    for &x in &[
        f64::MIN_POSITIVE,
        f32::MIN_POSITIVE as f64,
        1.0 - f64::EPSILON / 2.0,
        1.0 - f32::EPSILON as f64 / 2.0,
        4.9e-324,
    ] {
        for &(a, b) in &[(0.01, 0.01), (0.01, 1e3), (1e3, 0.01), (0.5, 3.0)] {
            for g in [beta_implicit_grad(a, b, x), beta_implicit_grad_f32(a, b, x)] {
                assert!(
                    g.0.is_finite() && g.1.is_finite(),
                    "a={a} b={b} x={x:e}: {g:?}"
                );
                assert!(g.0 >= 0.0 && g.1 <= 0.0, "a={a} b={b} x={x:e}: {g:?}");
            }
        }
    }
}

#[test]
fn slices_agree_with_single_calls() {
    // Two lanes run until both have converged, so a lane may take an extra step: the
    // values agree to the accuracy, not bit for bit. Odd length, and elements the
    // lane kernel hands back (x = 0, 1, subnormal, NaN, invalid parameters).
    let mut pts = typical_points(301, 5.0, 25.0);
    pts.extend(scattered());
    pts.extend([
        (0.5, 2.0, 0.0),
        (0.5, 2.0, 1.0),
        (0.01, 0.01, 1e-310),
        (2.0, 3.0, f64::NAN),
        (-1.0, 3.0, 0.5),
        (1e3, 0.01, 1.0 - f64::EPSILON / 2.0),
        (0.01, 10.0, 0.5),
    ]);
    let (a, b, x): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        pts.iter().map(|p| p.0).collect(),
        pts.iter().map(|p| p.1).collect(),
        pts.iter().map(|p| p.2).collect(),
    );
    type Single = fn(f64, f64, f64) -> (f64, f64);
    type Slice = fn(&[f64], &[f64], &[f64], &mut [f64], &mut [f64]);
    for (single, slice, tol) in [
        (
            beta_implicit_grad as Single,
            beta_implicit_grad_slice as Slice,
            1e-12,
        ),
        (beta_implicit_grad_f32, beta_implicit_grad_f32_slice, 1e-8),
    ] {
        let (mut da, mut db) = (vec![0.0; a.len()], vec![0.0; a.len()]);
        slice(&a, &b, &x, &mut da, &mut db);
        for i in 0..a.len() {
            let (ga, gb) = single(a[i], b[i], x[i]);
            let close =
                |u: f64, v: f64| (u.is_nan() && v.is_nan()) || u == v || ((u - v) / v).abs() <= tol;
            assert!(
                close(da[i], ga) && close(db[i], gb),
                "a={} b={} x={:e}: slice ({}, {}) vs single ({ga}, {gb})",
                a[i],
                b[i],
                x[i],
                da[i],
                db[i]
            );
        }
    }
}

/// Beta(a, b) draws by inversion with a small xorshift generator (deterministic),
/// a ~ U(0.5, amax), b ~ U(0.5, bmax).
fn typical_points(n: usize, amax: f64, bmax: f64) -> Vec<(f64, f64, f64)> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let a = 0.5 + (amax - 0.5) * uniform();
            let b = 0.5 + (bmax - 0.5) * uniform();
            let x = quantile(a, b, uniform()).clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0);
            (a, b, x)
        })
        .collect()
}

#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn implicit_grad_timing() {
    use std::hint::black_box;
    use std::time::Instant;
    fn best_ns(n: usize, mut run: impl FnMut()) -> f64 {
        (0..15)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_secs_f64() * 1e9 / n as f64
            })
            .fold(f64::INFINITY, f64::min)
    }
    for (label, amax, bmax) in [
        ("a∈[0.5,5], b∈[0.5,25]", 5.0, 25.0),
        ("a,b∈[0.5,5.5] (bench)", 5.5, 5.5),
    ] {
        let pts = typical_points(4096, amax, bmax);
        let n = pts.len();
        let (a, b, x): (Vec<f64>, Vec<f64>, Vec<f64>) = (
            pts.iter().map(|p| p.0).collect(),
            pts.iter().map(|p| p.1).collect(),
            pts.iter().map(|p| p.2).collect(),
        );
        let (mut da, mut db) = (vec![0.0; n], vec![0.0; n]);
        println!("\n{label}, x ~ Beta(a, b), one core, best of 15 (ns per element):");
        for (name, f) in [
            (
                "beta_implicit_grad",
                beta_implicit_grad as fn(f64, f64, f64) -> (f64, f64),
            ),
            ("beta_implicit_grad_f32", beta_implicit_grad_f32),
            ("betainc", |a, b, x| (betainc(a, b, x), 0.0)),
            ("betainc_grad", |a, b, x| {
                let g = betainc_grad(a, b, x);
                (g.1, g.2)
            }),
        ] {
            let t = best_ns(n, || {
                let mut acc = 0.0;
                for &(a, b, x) in &pts {
                    let g = f(black_box(a), black_box(b), black_box(x));
                    acc += g.0 + g.1;
                }
                black_box(acc);
            });
            println!("  {name:<28} {t:6.1}");
        }
        for (name, f) in [
            (
                "beta_implicit_grad_slice",
                beta_implicit_grad_slice as fn(&[f64], &[f64], &[f64], &mut [f64], &mut [f64]),
            ),
            ("beta_implicit_grad_f32_slice", beta_implicit_grad_f32_slice),
        ] {
            let t = best_ns(n, || {
                f(black_box(&a), &b, &x, &mut da, &mut db);
                black_box(&da);
            });
            println!("  {name:<28} {t:6.1}");
        }
    }
}
