# SMD1, SMD1H, VR, CVR, RPB, ZPB, RBIS, ZBIS, D2OR, D2ORN, D2ORL, CLES, AUC,
# CLESN, AUCN against metafor

quant_edge <- list(m1i = c(10.2, 8.1, 11.5, 9.7, 12, 7.4, 10, 9.1, 0, 5),
                   m2i = c(9.5, 9, 10.1, 9.7, 8.8, 8.2, 11.3, 9.9, 3, NA),
                   sd1i = c(2.1, 1.5, 2.8, 1.2, 2.2, 1.9, 2.5, 1.1, 0, 2),
                   sd2i = c(1.8, 2.6, 1.3, 2.9, 1.5, 2.4, 1.7, 2.8, 1, 2),
                   n1i = c(20, 5, 1, 40, 10, 2, 30, 15, 8, 9),
                   n2i = c(25, 5, 3, 1, 12, 2, 30, 14, 8, 9))

vtypes_of <- list(SMD1 = c("LS", "LS2", "LS3", "UB", "AV", "H0"), SMD1H = "LS",
                  VR = c("LS", "LS2"), CVR = c("LS", "LS2"), RPB = c("ST", "CS", "LS"),
                  ZPB = c("ST", "CS", "LS"), RBIS = "LS", ZBIS = "LS", D2OR = "LS",
                  D2ORN = "LS", D2ORL = "LS", CLESN = c("LS", "LS2", "LS3", "HO", "H0"),
                  AUCN = c("LS", "LS2", "LS3", "HO", "H0"))

test_that("two-group measures match metafor on dat.normand1999 (every vtype)", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.normand1999")
  args <- esc_cols(dat, c(m1i = "m1i", m2i = "m2i", sd1i = "sd1i", sd2i = "sd2i",
                          n1i = "n1i", n2i = "n2i"))
  for (m in names(vtypes_of)) for (vt in vtypes_of[[m]])
    expect_esc_match(m, c(args, list(vtype = vt)))
  for (m in c("SMD1", "SMD1H")) expect_esc_match(m, c(args, list(correct = "approx")))
  for (m in c("VR", "CVR", "SMD1")) expect_esc_match(m, c(args, list(correct = FALSE)))
  expect_error(escalc("VR", sd1i = 1, sd2i = 2, n1i = 5, n2i = 5, correct = "approx"), "correct")
})

test_that("two-group measures: edge cases (n = 1, zero SDs, NA) as metafor", {
  skip_if_not_installed("metafor")
  for (m in names(vtypes_of)) {
    for (vt in vtypes_of[[m]]) expect_esc_match(m, c(quant_edge, list(vtype = vt)))
    expect_esc_match(m, c(quant_edge, list(vtype = "UB")))
    expect_esc_match(m, c(quant_edge, list(subset = c(1, 2, 5, 7))))
  }
  expect_esc_match("SMD1", quant_edge[c("m1i", "m2i", "sd2i", "n1i", "n2i")])
  expect_esc_match("VR", quant_edge[c("sd1i", "sd2i", "n1i", "n2i")])
  expect_error(escalc("SMD1H", m1i = 1, m2i = 2, sd2i = 1, n1i = 5, n2i = 5), "sd1i")
  expect_error(escalc("VR", sd1i = c(1, -1), sd2i = 2, n1i = 5, n2i = 5), "sd1i.*rows: 2")
  expect_error(escalc("CVR", m1i = 1, m2i = 1, sd1i = 1, sd2i = 2, n1i = c(5, 0), n2i = 5), "n1i.*rows: 2")
})

test_that("correlations and log odds ratios from d, t, p and r match metafor", {
  skip_if_not_installed("metafor")
  n1 <- quant_edge$n1i
  n2 <- quant_edge$n2i
  dd <- c(0.5, -1, NA, 2, 0, 0.3, NA, 1, -0.2, 3)
  tt <- c(NA, NA, 2, NA, NA, NA, -1.5, NA, NA, NA)
  pp <- c(NA, NA, NA, NA, NA, NA, NA, NA, 0.04, NA)
  rr <- c(0.3, -0.99, 0.999999, 0, NA, 0.5, 0.2, 0.1, -0.4, 0.6)
  for (m in c("RPB", "ZPB", "RBIS", "ZBIS", "D2OR", "D2ORN", "D2ORL", "CLESN", "AUCN")) {
    expect_esc_match(m, list(di = dd, ti = tt, pi = pp, n1i = n1, n2i = n2))
    expect_esc_match(m, c(quant_edge, list(di = dd)))
  }
  for (m in c("RPB", "ZPB", "RBIS", "ZBIS", "D2ORL"))
    expect_esc_match(m, list(ri = rr, n1i = n1, n2i = n2))
})

test_that("CLES / AUC match metafor (every vtype, ties, AUC 0 and 1)", {
  skip_if_not_installed("metafor")
  au <- c(0.5, 0.9, 0.1, 0, 1, NA, 0.7, 0.3, 0.99, 0.6)
  ties <- c(0.1, 0, NA, 0.2, 0, 0, 0.3, 0, 0, 1)
  for (m in c("CLES", "AUC")) for (vt in c("LS", "LS2", "H0", "MAX")) {
    expect_esc_match(m, list(ai = au, n1i = quant_edge$n1i, n2i = quant_edge$n2i, vtype = vt))
    expect_esc_match(m, list(ai = au, mi = ties, n1i = quant_edge$n1i, n2i = quant_edge$n2i, vtype = vt))
  }
  # CLESN / AUCN from the AUC itself (and SDs for some vtypes)
  for (vt in c("LS", "LS2", "HO"))
    expect_esc_match("AUCN", c(quant_edge, list(ai = au, vtype = vt)))
  expect_esc_match("AUCN", list(ai = au, n1i = quant_edge$n1i, n2i = quant_edge$n2i))
  expect_error(escalc("AUC", ai = c(0.5, 1.2), n1i = 5, n2i = 5), "ai.*rows: 2")
  expect_error(escalc("AUC", ai = 0.5, mi = -0.1, n1i = 5, n2i = 5), "mi")
})
