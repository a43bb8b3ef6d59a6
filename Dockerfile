FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
COPY services ./services
COPY storage ./storage
COPY projections ./projections
RUN pip install --no-cache-dir .
USER nobody
CMD ["commentstream", "gateway"]
