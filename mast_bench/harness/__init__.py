"""Train, propagate, score and profile jobs; parallel and cluster back-ends; studies."""
