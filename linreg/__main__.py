"""`python -m linreg`: the seed tutorial's example through linreg; see linreg.demo."""
from linreg.demo import main

main()
