# update(): change arguments of a fit and refit, as stats::update().

#' Update and refit a meta-analytic model
#'
#' Changes arguments in the call of an \code{rma()} fit and evaluates it
#' again, as \code{stats::update()}.  \code{formula.} updates the moderator
#' formula (\code{mods}, or the \code{yi ~ mods} formula), e.g.
#' \code{update(fit, ~ . + x2)}; other arguments replace those of the call,
#' e.g. \code{update(fit, mods = ~ x)} or \code{update(fit, method = "DL")}.
#'
#' @param object an object of class \code{mf_rma}.
#' @param formula. a formula that updates the moderators.
#' @param ... arguments of \code{rma()} to change.
#' @param evaluate evaluate the new call (default) or return it.
#' @return The refitted model, or the call when \code{evaluate = FALSE}.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, data = dat)
#' update(fit, mods = ~ x)
#' update(fit, method = "DL")
#' @export
update.mf_rma <- function(object, formula., ..., evaluate = TRUE) {
  .mf_check_dots("update.mf_rma", ...)
  call <- .mf_update_call(object, if (missing(formula.)) NULL else formula., match.call(expand.dots = FALSE)$...)
  if (isTRUE(evaluate)) eval(call, parent.frame()) else call
}

# The call of a fit with the moderators updated by formula. (NULL: kept) and
# the arguments 'extras' (unevaluated) replaced.
.mf_update_call <- function(object, formula., extras) {
  call <- object$call
  if (is.null(call)) .mf_stop("The model has no 'call' component to update.")
  if (!is.null(formula.)) {
    if (!inherits(formula., "formula"))
      .mf_stop("'formula.' must be a formula, e.g. ~ . + x.")
    yi <- call$yi
    if (is.call(yi) && identical(yi[[1L]], as.name("~"))) {
      call$yi <- stats::update.formula(stats::as.formula(yi), formula.)
    } else {
      mods <- call$mods
      if (is.null(mods)) mods <- quote(~ 1)
      if (!(is.call(mods) && identical(mods[[1L]], as.name("~"))))
        .mf_stop("'mods' of the model must be a formula for 'formula.' to update it.")
      call$mods <- stats::update.formula(stats::as.formula(mods), formula.)
    }
  }
  for (a in names(extras)) call[[a]] <- extras[[a]]
  call
}
