# escalc() measures of 2x2 tables besides OR, RR, RD, PETO, AS (those are in
# R/escalc-measures.R): association measures (PHI, ZPHI, YUQ, YUY), the
# probit difference (PBIT), log odds ratios converted to standardized mean
# differences (OR2D, OR2DN, OR2DL) and the measures of paired binary data
# (MPRD, MPRR, MPOR, MPORC, MPPETO, MPORM).  The cells are checked and
# adjusted (add, to, drop00, onlyo1) by .esc_2x2_cells().

.esc_es_2x2more <- function(measure, v, vtype, rows, add, to, drop00,
                            onlyo1 = FALSE, addyi = TRUE, addvi = TRUE) {
  k <- length(rows)
  tab <- .esc_2x2_cells(measure, v, rows, add, to, drop00, onlyo1)
  ai <- tab$adj[[1]]; bi <- tab$adj[[2]]; ci <- tab$adj[[3]]; di <- tab$adj[[4]]
  ni.u <- tab$ni.u
  n1i <- ai + bi
  n2i <- ci + di
  ni <- n1i + n2i
  p1i <- ai / n1i
  p2i <- ci / n2i
  vi <- rep(NA_real_, k)

  if (measure %in% c("PHI", "ZPHI")) {
    # phi coefficient; "ST": variance under stratified (two-group) sampling
    # (Bonett 2007, Comput Stat Data Anal 51:4452-4458, eq. 11);
    # "CS" (= "LS"): variance under cross-sectional (multinomial) sampling
    # (Yule 1912; Bishop, Fienberg & Holland 1975, sec. 11.3)
    .esc_vtype_ok(vtype, c("ST", "CS", "LS"), measure)
    yi <- (ai * di - bi * ci) / sqrt(n1i * n2i * (ai + ci) * (bi + di))
    q1i <- 1 - p1i
    q2i <- 1 - p2i
    r1 <- n1i / ni; r2 <- n2i / ni          # row margins
    c1 <- (ai + ci) / ni; c2 <- (bi + di) / ni  # column margins
    s <- vtype == "ST"
    if (any(s)) {
      u <- p2i * q1i + p1i * q2i
      num <- ni^2 * (4 * n1i^3 * p1i^2 * p2i * q1i^2 * q2i +
                       4 * n2i^3 * p1i * p2i^2 * q1i * q2i^2 +
                       n1i * n2i^2 * p2i * q2i * u * (p2i * q1i + p1i * (4 * q1i + q2i)) +
                       n1i^2 * n2i * p1i * q1i * u * (p1i * q2i + p2i * (q1i + 4 * q2i)))
      vi[s] <- (num / (4 * (ai + ci)^3 * (bi + di)^3))[s]
    }
    s <- vtype %in% c("CS", "LS")
    if (any(s)) {
      vcs <- (1 - yi^2 + yi * (1 + yi^2 / 2) * (r1 - r2) * (c1 - c2) / sqrt(r1 * r2 * c1 * c2) -
                3 / 4 * yi^2 * ((r1 - r2)^2 / (r1 * r2) + (c1 - c2)^2 / (c1 * c2))) / ni
      vi[s] <- vcs[s]
    }
    if (measure == "ZPHI") {
      vi <- .esc_rtoz_var(vi, yi)
      yi <- .esc_rtoz(yi)
    }
  } else if (measure %in% c("YUQ", "YUY")) {
    # Yule's Q = (OR - 1) / (OR + 1) and Yule's Y = (sqrt(OR) - 1) /
    # (sqrt(OR) + 1) with delta-method variances (Yule 1912; Bishop,
    # Fienberg & Holland 1975, sec. 11.2): Var(Q) = (1 - Q^2)^2 / 4 * S,
    # Var(Y) = (1 - Y^2)^2 / 16 * S, S = 1/a + 1/b + 1/c + 1/d
    or <- (ai / bi) / (ci / di)
    sumi <- 1 / ai + 1 / bi + 1 / ci + 1 / di
    if (measure == "YUQ") {
      yi <- (or - 1) / (or + 1)
      vi <- (1 - yi^2)^2 * sumi / 4
    } else {
      yi <- (sqrt(or) - 1) / (sqrt(or) + 1)
      vi <- (1 - yi^2)^2 * sumi / 16
    }
  } else if (measure == "PBIT") {
    # probit transformed risk difference (Sanchez-Meca, Marin-Martinez &
    # Chacon-Moscoso 2003, Psychol Methods 8:448-467): z1 - z2 with
    # z = qnorm(p) and Var = 2 pi p (1 - p) exp(z^2) / n per group
    z1i <- stats::qnorm(p1i)
    z2i <- stats::qnorm(p2i)
    yi <- z1i - z2i
    vi <- 2 * base::pi * p1i * (1 - p1i) * exp(z1i^2) / n1i +
      2 * base::pi * p2i * (1 - p2i) * exp(z2i^2) / n2i
  } else if (measure %in% c("OR2D", "OR2DL", "OR2DN", "MPORM")) {
    # based on the log odds ratio (with its vtype, addyi and addvi)
    lor <- .esc_es_2x2("OR", v, vtype, rows, add, to, drop00, onlyo1, addyi, addvi)
    yi <- lor$yi
    vi <- lor$vi
    if (measure %in% c("OR2D", "OR2DL")) {
      # logistic distribution: d = sqrt(3) / pi * log OR (Hasselblad & Hedges
      # 1995, Psychol Bull 117:167-178; Chinn 2000, Stat Med 19:3127-3131)
      yi <- sqrt(3) / base::pi * yi
      vi <- 3 / base::pi^2 * vi
    } else if (measure == "OR2DN") {
      # normal distribution: d = log OR / 1.65 (Cox 1970, The Analysis of
      # Binary Data; Sanchez-Meca et al. 2003)
      yi <- yi / 1.65
      vi <- vi / 1.65^2
    } else {
      # MPORM: marginal log odds ratio of paired binary data from the
      # marginal table (ai, bi: events and non-events at time 1; ci, di at
      # time 2; ni = pairs), with the covariance term of the two margins
      # from the correlation ri of the paired outcomes (or the proportion pi
      # of pairs with an event at both times, which gives ri as the phi
      # coefficient of the paired table); Elbourne et al. (2002, Int J
      # Epidemiol 31:140-149), Stedman et al. (2011, Int J Epidemiol
      # 40:1732-1734)
      if (is.null(v$ri) && is.null(v$pi))
        stop("measure = 'MPORM' requires argument 'ri' (and/or 'pi')", call. = FALSE)
      if (!is.null(v$ri)) .esc_chk(abs(v$ri) > 1, "ri must lie in [-1, 1]", rows)
      if (!is.null(v$pi)) .esc_chk(v$pi < 0 | v$pi > 1, "pi must lie in [0, 1]", rows)
      ni.u <- round(ni.u / 2)
      au <- tab$raw[[1]]; bu <- tab$raw[[2]]; cu <- tab$raw[[3]]; du <- tab$raw[[4]]
      ri <- v$ri
      if (!is.null(v$pi)) {
        ap <- v$pi * (au + bu)
        bp <- au - ap
        cp <- cu - ap
        dp <- bu - cu + ap
        rp <- (ap * dp - bp * cp) / sqrt((ap + bp) * (cp + dp) * (ap + cp) * (bp + dp))
        rp[!is.na(rp) & (rp < -1 | rp > 1)] <- NA_real_
        ri <- .esc_fill(ri, rp, k)
      }
      if (addvi) {
        nn <- round(ni / 2)
        si <- (ri * sqrt(ai * bi * ci * di) + ai * bi) / nn
        deltai <- nn^2 * (nn * si - ai * bi) / (ai * bi * ci * di)
      } else {
        nn <- ni.u
        si <- (ri * sqrt(au * bu * cu * du) + au * bu) / nn
        # (as metafor 5.2.1: the adjusted bi in the product au * bi here)
        deltai <- nn^2 * (nn * si - au * bi) / (au * bu * cu * du)
      }
      vi <- vi - 2 * deltai / nn
    }
  } else {
    # paired binary data as the table of pairs: ai (event at both times),
    # bi (event at time 1 only), ci (time 2 only), di (neither)
    if (measure %in% c("MPRD", "MPRR", "MPOR")) {
      pi12 <- bi / ni
      pi21 <- ci / ni
      pi1. <- (ai + bi) / ni
      pi.1 <- (ai + ci) / ni
    }
    if (measure == "MPRD") {
      # difference of the marginal proportions (Agresti 2013, Categorical
      # Data Analysis, 3rd ed., sec. 11.1.1)
      yi <- pi1. - pi.1
      vi <- (pi12 * (1 - pi12) + 2 * pi12 * pi21 + pi21 * (1 - pi21)) / ni
    } else if (measure == "MPRR") {
      # log ratio of the marginal proportions (Agresti 2013, sec. 11.1.4;
      # Zou 2007, Stat Med 26:3768)
      yi <- log(pi1.) - log(pi.1)
      vi <- (pi12 + pi21) / (ni * pi1. * pi.1)
    } else if (measure == "MPOR") {
      # marginal log odds ratio (Agresti 2013, sec. 11.1; delta method)
      yi <- log(pi1. / (1 - pi1.)) - log(pi.1 / (1 - pi.1))
      vi <- (pi12 * (1 - pi12) + pi21 * (1 - pi21) + 2 * pi12 * pi21) /
        (ni * pi1. * (1 - pi1.) * pi.1 * (1 - pi.1))
    } else if (measure == "MPORC") {
      # conditional log odds ratio log(b / c) (Breslow & Day 1980, sec. 5.3)
      yi <- log(bi) - log(ci)
      vi <- 1 / bi + 1 / ci
    } else if (measure == "MPPETO") {
      # Peto's one-step log odds ratio for paired data (Yusuf et al. 1985,
      # applied to the discordant pairs): E = (b + c) / 2, V = (b + c) / 4
      ei <- (bi + ci) / 2
      hv <- (bi + ci) / 4
      yi <- (bi - ei) / hv
      vi <- 1 / hv
    }
  }
  list(yi = yi, vi = vi, ni = ni.u)
}
