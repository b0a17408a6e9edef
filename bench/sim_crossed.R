# The simulated data of the benches of crossed fits, sim_crossed() and
# sim_struct(): defined with the tests' (run from the package root).
source(file.path("tests", "testthat", "helper-mv-sim.R"))
