# Not imported by the golden tests; names the era files refer to.
