import pytest

from api.tokens import token_create


class Api:
    """A test client speaking to /api/ with one user's token."""

    def __init__(self, client, secret: str, token):
        self.client, self.secret, self.token = client, secret, token

    def _headers(self, headers):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.secret}", "HTTP_ACCEPT_LANGUAGE": "en", **(headers or {})}

    def get(self, path, data=None, **headers):
        return self.client.get(f"/api{path}", data, **self._headers(headers))

    def post(self, path, body=None, **headers):
        return self.client.post(f"/api{path}", body, content_type="application/json", **self._headers(headers))

    def delete(self, path, **headers):
        return self.client.delete(f"/api{path}", **self._headers(headers))

    def patch(self, path, body=None, **headers):
        return self.client.patch(f"/api{path}", body, content_type="application/json", **self._headers(headers))


@pytest.fixture
def api_for(client):
    def make(user, scope="write", name="Till", **kwargs):
        token, secret = token_create(user=user, name=name, scope=scope, **kwargs)
        return Api(client, secret, token)

    return make
