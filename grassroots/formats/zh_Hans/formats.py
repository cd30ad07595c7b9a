# Django's zh_Hans groups digits by four with no separator ("96904", "671857300"); officials
# read figures, money included, grouped by three with commas, as in Chinese statistics.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
