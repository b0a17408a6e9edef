# SMCRH, SMCRP, SMCRPH, ROMC, VRC, CVRC, CLESCN, AUCCN against metafor

pp_edge <- list(m1i = c(10, 5, 8, NA, 3, 7, 2, 12.5),
                m2i = c(9, 6, 8, 4, 2, 1, 2, 11.1),
                sd1i = c(2, 1, 3, 1, 1, 2, 0, 3.2),
                sd2i = c(2, 1.5, 3, 1, 2, 1, 1, 2.7),
                ri = c(0.5, -0.99, 0.999999, 0.3, 1, -1, 0.2, 0.65),
                ni = c(10, 2, 30, 5, 1, 50, 8, 40))

vt_pp <- list(SMCRH = c("LS", "LS2"), SMCRP = "LS", SMCRPH = c("LS", "LS2"),
              ROMC = c("LS", "LS2"), VRC = c("LS", "LS2"), CVRC = c("LS", "LS2"),
              CLESCN = "LS", AUCCN = "LS")

test_that("pre-post measures match metafor (every vtype; correct; edge cases)", {
  skip_if_not_installed("metafor")
  for (m in names(vt_pp)) {
    for (vt in vt_pp[[m]]) for (cr in c(TRUE, FALSE))
      expect_esc_match(m, c(pp_edge, list(vtype = vt, correct = cr)))
    expect_esc_match(m, c(pp_edge, list(vtype = "AV")))
    expect_esc_match(m, c(pp_edge, list(subset = c(1, 3, 8))))
  }
  for (m in c("SMCRH", "SMCRP", "SMCRPH")) expect_esc_match(m, c(pp_edge, list(correct = "approx")))
  expect_esc_match("VRC", pp_edge[c("sd1i", "sd2i", "ri", "ni")])
  # one correlation for all studies
  expect_esc_match("SMCRPH", c(pp_edge[c("m1i", "m2i", "sd1i", "sd2i", "ni")], list(ri = 0.5)))
  expect_error(escalc("ROMC", m1i = 1, m2i = 2, sd1i = 1, sd2i = 1, ni = 10, ri = 0.5,
                      correct = "approx"), "correct")
  expect_error(escalc("SMCRH", m1i = 1, m2i = 2, sd1i = 1, sd2i = 1, ni = 10, ri = c(0.5, 1.1)),
               "ri.*rows: 2")
  expect_error(escalc("SMCRH", m1i = 1, m2i = 2, sd1i = 1, sd2i = 1, ni = 10), "ri")
})
