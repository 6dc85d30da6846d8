"""botocore's data loader without two costs of a cold start, for the sessions of `lambda_platform.aws`.

Creating the first client reads botocore's `endpoints.json` (1.25 MB) and the service's
model. Two things make that slower than it need be (boto/botocore#2553):

- every JSON file is parsed with `object_pairs_hook=OrderedDict`, which takes three to four
  times as long as plain `json.loads`; a plain dict keeps its order as well;
- before loading a service's model, the loader lists every directory of botocore's data
  (about 440 services, once per model type) to check that the service exists, where
  listing that one service's directory answers the same question.

Together they were about 50 ms of the API's cold start. Models, search paths
(`AWS_DATA_PATH`), extras and errors for an unknown service are botocore's own.
"""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import DataNotFoundError
from botocore.loaders import JSONFileLoader, Loader, create_loader, instance_cache


# botocore ships no types (and botocore-stubs leave out the private methods overridden here),
# so its loaders are Any to mypy: subclassing them and their instance_cache are unchecked.
class PlainJSONFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore's class is Any: untyped
    """botocore's JSON file loader, parsing into plain (ordered) dicts."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            return json.loads(fp.read().decode("utf-8"))


class DataLoader(Loader):  # type: ignore[misc]  # botocore's class is Any: untyped
    """botocore's Loader, parsing plain dicts and looking a service up in its own directory only."""

    FILE_LOADER_CLASS = PlainJSONFileLoader

    @instance_cache  # type: ignore[untyped-decorator]  # botocore's decorator is Any: untyped
    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        """The service's model (its newest version unless named), with botocore's extras applied."""
        try:
            versions = self.list_api_versions(service_name, type_name)
        except DataNotFoundError:
            # Not a service: botocore's own lookup raises UnknownServiceError, naming the known ones.
            return super().load_service_model(service_name, type_name, api_version)
        api_version = api_version or max(versions)
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        self._extras_processor.process(model, self._find_extras(service_name, type_name, api_version))
        return model


def install(botocore_session: Any) -> None:
    """Make `botocore_session` load its data with `DataLoader` (before any client is made)."""
    # botocore's own loader for the session's data path (AWS_DATA_PATH), for its search paths.
    paths = create_loader(botocore_session.get_config_variable("data_path")).search_paths
    loader = DataLoader(extra_search_paths=list(paths), include_default_search_paths=False)
    botocore_session.register_component("data_loader", loader)
