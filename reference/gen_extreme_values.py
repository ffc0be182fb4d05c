"""Reference values at extreme arguments for tests/suite/extreme_parameters.rs (mpmath, 50
digits; every input is the exact binary64 value the test passes).
Run: .venv/bin/python reference/gen_extreme_values.py
"""
import mpmath as mp

mp.mp.dps = 50
MAX = mp.mpf(1.7976931348623157e308)


def inverse_gamma_log_prob(a, b, y):
    a, b, y = mp.mpf(a), mp.mpf(b), mp.mpf(y)
    return a * mp.log(b) - (a + 1) * mp.log(y) - b / y - mp.loggamma(a)


def student_t_log_prob(df, y):
    df, y = mp.mpf(df), mp.mpf(y)
    return (-(df + 1) / 2 * mp.log1p(y * y / df) - mp.log(df * mp.pi) / 2
            - mp.loggamma(df / 2) + mp.loggamma((df + 1) / 2))


if __name__ == "__main__":
    print("InverseGamma(2, 1e-320) at 5e-324:", mp.nstr(inverse_gamma_log_prob(2.0, 1e-320, 5e-324), 20))
    print("InverseGamma(0.5, 1) at 1e-300:", mp.nstr(inverse_gamma_log_prob(0.5, 1.0, 1e-300), 20))
    print("StudentT(3) at MAX:", mp.nstr(student_t_log_prob(3.0, MAX), 20))
    print("StudentT(0.5) at -1e200:", mp.nstr(student_t_log_prob(0.5, -1e200), 20))
    print("StudentT(1e-300) at 1.0:", mp.nstr(student_t_log_prob(1e-300, 1.0), 20))
    # StudentT(ν = f32(0.3)) cdf at −f32::MAX (the lower tail, ~MAX^−ν).
    nu = mp.mpf(0.30000001192092896)  # f32(0.3)
    y = mp.mpf(3.4028234663852886e38)
    x = nu / (nu + y * y)
    print("StudentT(f32 0.3) cdf(-f32::MAX):", mp.nstr(mp.betainc(nu / 2, 0.5, 0, x, regularized=True) / 2, 20))
    # FisherSnedecor(f32(0.3), f32(0.2)) cdf at f32::MAX: I_z(d1/2, d2/2), 1 − z = d2/(d1 x + d2).
    d1, d2 = mp.mpf(0.30000001192092896), mp.mpf(0.20000000298023224)
    z = d1 * y / (d1 * y + d2)
    print("FisherSnedecor(f32 0.3, f32 0.2) cdf(f32::MAX):", mp.nstr(mp.betainc(d1 / 2, d2 / 2, 0, z, regularized=True), 20))
