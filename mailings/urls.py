app_name = "mailings"
urlpatterns: list = []
