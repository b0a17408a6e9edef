library(testthat)
library(metafast)

test_check("metafast")
