FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 LITELLM_LOCAL_MODEL_COST_MAP=True
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY worker ./worker
COPY tasks ./tasks
COPY schema ./schema
COPY migrations ./migrations
RUN pip install -c constraints.txt . && useradd --create-home agent
USER agent
CMD ["agent-runtime", "--help"]
