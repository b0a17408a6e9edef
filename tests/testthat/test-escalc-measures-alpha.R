# ARAW, AHW, ABT against metafor

test_that("Cronbach's alpha measures match metafor on dat.bonett2010 and edge cases", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.bonett2010")
  for (m in c("ARAW", "AHW", "ABT")) {
    expect_esc_match(m, list(ai = dat$ai, mi = dat$mi, ni = dat$ni))
    expect_esc_match(m, list(ai = c(0.8, 0.5, -1, 1, 0.99, NA, 0), mi = c(2, 10, 5, 3, 20, 4, 2),
                             ni = c(100, 3, 2, 50, 1, 30, 10)))
  }
  expect_error(escalc("ABT", ai = c(0.5, 1.1), mi = 5, ni = 10), "ai.*rows: 2")
  expect_error(escalc("ABT", ai = 0.5, mi = 1, ni = 10), "mi")
  expect_error(escalc("ABT", ai = 0.5, mi = 5), "ni")
})

test_that("REH matches metafor (zero genotype counts, NA)", {
  skip_if_not_installed("metafor")
  expect_esc_match("REH", list(ai = c(10, 0, 5, NA, 3, 1, 120), bi = c(20, 5, 0, 4, 3, 1, 310),
                               ci = c(15, 3, 2, 1, 0, 1, 190)))
  expect_error(escalc("REH", ai = c(1, -1), bi = 2, ci = 3), "ai.*rows: 2")
})
