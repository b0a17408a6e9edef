# Installs metafast with everything it needs: the CRAN packages named in
# DESCRIPTION (Imports, LinkingTo and Suggests: tests and vignettes use the
# suggested ones), then the package itself from this folder.
# Run from the repository root:  Rscript tools/install.R
desc <- read.dcf("DESCRIPTION", fields = c("Imports", "LinkingTo", "Suggests"))
deps <- unlist(strsplit(desc[!is.na(desc)], ","))
deps <- trimws(sub("\\(.*\\)", "", deps))
deps <- setdiff(deps[nzchar(deps)], c("R", rownames(installed.packages(priority = "base"))))
missing <- deps[!vapply(deps, requireNamespace, logical(1), quietly = TRUE)]
if (length(missing)) {
  message("Installing from CRAN: ", paste(missing, collapse = ", "))
  options(Ncpus = max(1L, parallel::detectCores()))
  install.packages(missing)
}
still <- deps[!vapply(deps, requireNamespace, logical(1), quietly = TRUE)]
if (length(still)) stop("Could not install: ", paste(still, collapse = ", "))
install.packages(".", repos = NULL, type = "source")
if (!requireNamespace("metafast", quietly = TRUE)) stop("metafast did not install")
message("metafast ", packageVersion("metafast"), " installed.")
