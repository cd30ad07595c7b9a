.PHONY: run test

# The same two commands as the README, for those who type make.
run:
	python3 dev.py run

test:
	python3 dev.py test
