app_name = "grids"
urlpatterns: list = []
